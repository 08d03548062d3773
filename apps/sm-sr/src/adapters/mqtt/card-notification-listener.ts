/**
 * Card notifications over MQTT (docs/topics.md): `rsp/v1/euicc/+/es5/notify`, shared between the SM-SR
 * instances under MQTT 5 (`$share/{group}/…`). Each valid envelope goes to the domain handler, which
 * confirms it over ES5; a notification already being handled (a resend) is skipped.
 */
import type { MqttClient } from 'mqtt';
import { es5, parse, parseCardTopic, sharedSubscription, TOPIC_FILTERS } from '@rsp/contracts';
import type { CardNotificationHandler } from '../../domain/card-notifications';
import { describe } from '../../domain/function-runner';
import type { SmSrLogger } from '../../domain/model';

export class CardNotificationListener {
  private readonly inFlight = new Set<string>();
  /** The client is shared: every ES3 request and ES5 reply passes here too, so others are let go before any parsing. */
  private readonly listener = (topic: string, payload: Buffer) => {
    if (topic.endsWith('/notify')) void this.onMessage(topic, payload);
  };

  constructor(
    private readonly client: MqttClient,
    private readonly handler: CardNotificationHandler,
    private readonly logger: SmSrLogger,
    private readonly options: { protocolVersion?: 4 | 5; group?: string } = {},
  ) {}

  async start(): Promise<void> {
    const filter = this.options.protocolVersion === 5 ? sharedSubscription(this.options.group ?? 'smsr', TOPIC_FILTERS.allNotifications) : TOPIC_FILTERS.allNotifications;
    this.client.on('message', this.listener);
    await this.client.subscribeAsync(filter, { qos: 1 });
  }

  stop(): void {
    this.client.off('message', this.listener);
  }

  private async onMessage(topic: string, payload: Buffer): Promise<void> {
    const card = parseCardTopic(topic);
    if (!card || card.kind !== 'notify') return;
    let envelope: es5.Es5NotificationEnvelope;
    try {
      envelope = parse(es5.es5NotificationEnvelope, JSON.parse(payload.toString('utf8')));
    } catch {
      return; // malformed: dropped (the card resends unconfirmed notifications)
    }
    if (envelope.eid !== card.eid) return;
    const key = `${envelope.eid}/${envelope.seq}`;
    if (this.inFlight.has(key)) return;
    this.inFlight.add(key);
    try {
      await this.handler.handle(envelope);
    } catch (error) {
      this.logger.warn(`card notification ${key} not confirmed: ${describe(error)}`);
    } finally {
      this.inFlight.delete(key);
    }
  }
}
