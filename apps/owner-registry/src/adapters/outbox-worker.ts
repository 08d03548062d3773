/**
 * Delivers the registry's outbox: `status:{eid}` → the device's CURRENT status, signed (JWS), published
 * retained at QoS 1 on `rsp/v1/owner/device/{eid}/status`; `mqtt:{topic}` → the payload at QoS 1 (seller
 * notifications); `es2:{mnoId}` → the ES2 calls queued by a resale 'leave' or a failed donor delete,
 * made with a fresh consent, and void once the device's epoch moved on. Failures are retried with the
 * outbox backoff and dead-lettered at the end; each ES2 attempt is audited.
 */
import type { MqttClient } from 'mqtt';
import type { DataSource } from 'typeorm';
import { UNREGISTERED_VERSION, deviceStatusTopic } from '@rsp/identity';
import type { Outbox, OutboxMessage } from '@rsp/persistence';
import type { AuditLog } from '../domain/audit';
import type { Logger } from '../domain/context';
import { DESTINATION, type DeviceStatusDocuments } from '../domain/device-status';
import { isSuccess, type Es2Job, type OnBehalfEs2 } from '../domain/es2';
import { DeviceRecord } from './entities/device.entity';

export class OutboxWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly deps: { outbox: Outbox; mqtt: MqttClient; dataSource: DataSource; statuses: DeviceStatusDocuments; es2: OnBehalfEs2; audit: AuditLog; logger: Logger },
    private readonly intervalMs = 500,
  ) {}

  start(): void {
    this.schedule();
  }

  /** Runs a delivery round now (or right after the current one). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else void this.drain().catch((error: unknown) => this.deps.logger.error(`outbox round failed: ${(error as Error).message}`));
  }

  async drain(): Promise<void> {
    this.running ??= this.round().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.kick();
      }
    });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.drain()
        .catch((error: unknown) => this.deps.logger.error(`outbox round failed: ${(error as Error).message}`))
        .finally(() => this.schedule());
    }, this.intervalMs);
  }

  private async round(): Promise<void> {
    for (const message of await this.deps.outbox.claimDue()) {
      if (this.stopped) return;
      try {
        await this.deliver(message);
        await this.deps.outbox.markDelivered(message.id);
      } catch (error) {
        const updated = await this.deps.outbox.markFailed(message.id, error);
        if (updated.status === 'dead') this.deps.logger.error(`outbox message ${message.id} dead-lettered after ${updated.attempts} attempts`);
      }
    }
  }

  private async deliver(message: OutboxMessage): Promise<void> {
    const { destination } = message;
    if (destination.startsWith(DESTINATION.status)) return this.publishStatus(destination.slice(DESTINATION.status.length));
    if (destination.startsWith(DESTINATION.mqtt)) {
      await this.deps.mqtt.publishAsync(destination.slice(DESTINATION.mqtt.length), JSON.stringify(message.payload), { qos: 1 });
      return;
    }
    if (destination.startsWith(DESTINATION.es2)) return this.runEs2Job(message.payload as Es2Job);
    throw new Error(`unknown outbox destination kind`);
  }

  /** Publishes the device's current signed status, retained (also used at start-up). */
  async publishStatus(eid: string): Promise<void> {
    const status = await this.deps.statuses.current(eid);
    if (status.version === UNREGISTERED_VERSION) return; // not a device of ours
    await this.deps.mqtt.publishAsync(deviceStatusTopic(eid), await this.deps.statuses.sign(status), { qos: 1, retain: true });
  }

  private async runEs2Job(job: Es2Job): Promise<void> {
    const action = `es2.${job.kind}`;
    const device = await this.deps.dataSource.getRepository(DeviceRecord).findOneBy({ eid: job.eid });
    if (!device || device.consentEpoch !== job.epoch) {
      await this.deps.audit.recordRegistry(action, job.eid, `mno:${job.mnoId}`, 'ERR_OWNER_EPOCH_MOVED_ON');
      return; // another sale since: the new owner decides now
    }
    for (const fn of job.functions) {
      let outcome = 'ok';
      try {
        const answer = await this.deps.es2.call(job.mnoId, job.eid, fn, { iccid: job.iccid });
        if (!isSuccess(answer)) outcome = `ES2_${answer.functionExecutionStatus.status}`;
      } catch (error) {
        outcome = (error as { code?: string }).code ?? 'ERR_OWNER_ES2_FAILED';
      }
      await this.deps.audit.recordRegistry(`${action}.${fn}`, job.eid, `mno:${job.mnoId}`, outcome.slice(0, 64));
      // Disable may fail when the profile is already disabled; the delete decides.
      if (outcome !== 'ok' && fn === job.functions[job.functions.length - 1]) throw new Error(`ES2 ${fn}: ${outcome}`);
    }
  }
}
