/**
 * Resale (docs/owner-registry.md "Resale"). The owner starts a transfer with a fresh login (step-up)
 * and hands the code to the buyer; redeeming it is ONE database transaction:
 *
 * | # | step (inside the transaction)     | effect                                                        |
 * |---|-----------------------------------|---------------------------------------------------------------|
 * | 1 | use-code                          | the transfer row is marked used (conditional: once only)      |
 * | 2 | revoke-grants                     | every direct grant on the device (seller, her delegates)      |
 * | 3 | grant-buyer                       | the buyer's owner grant                                       |
 * | 4 | unlink-groups                     | the device leaves the seller's groups                         |
 * | 5 | bump-epoch                        | consentEpoch + 1, every consent revoked, recentlyTransferredAt |
 * | 6 | snapshot-settings                 | the settings document copied into the seller's account        |
 * | 7 | enqueue                           | seller notification, status publication, ES2 'leave' job     |
 *
 * With `subscription: 'leave'` and the seller's `{ mnoId, iccid }` given at start, the outbox job then
 * calls that MNO's ES2 DisableProfile + DeleteProfile with a consent the registry mints at the NEW
 * epoch on the owner's behalf (a consent of the old epoch would be refused by the SM-DP once the new
 * status arrives). A failing call is audited and retried by the outbox; it never undoes the sale.
 */
import { randomUUID } from 'node:crypto';
import { ID_PATTERN } from '@rsp/contracts';
import { requireStepUp, STEP_UP_MAX_AGE_SECONDS } from '@rsp/identity';
import { deviceFor } from './access';
import type { AuditLog, AuditScope } from './audit';
import { codeMatches, generateTransferCode, hashCode } from './codes';
import { revokeAllConsents } from './consents';
import { sameSubject, subjectOf, type OwnerCaller, type RegistryDeps, type Subject } from './context';
import { DESTINATION, ownerNotificationTopic, touchAndPublish } from './device-status';
import type { Es2Job } from './es2';
import { OwnerError } from './errors';
import type { Device, SubscriptionChoice, Transfer } from './records';
import { runSteps, type Step } from './steps';
import type { RegistryUnit } from './store';
import { CODE, ICCID, bodyOf, oneOf, optionalText, text, type Body } from './validate';

export const TRANSFER_TTL_MS = 10 * 60 * 1000;
export const TRANSFER_MAX_ATTEMPTS = 5;

interface StartContext {
  owner: OwnerCaller;
  eid: string;
  body: Body;
  subscription?: SubscriptionChoice;
  mnoId?: string;
  iccid?: string;
  result?: { transferId: string; transferCode: string; expiresAt: string };
}

interface RedeemContext {
  buyer: OwnerCaller;
  body: Body;
  scope: AuditScope;
  device?: Device;
  transfer?: Transfer;
  seller?: Subject;
}

export class Transfers {
  constructor(
    private readonly deps: RegistryDeps,
    private readonly audit: AuditLog,
  ) {}

  /** POST /devices/{eid}/transfers `{ subscription: 'leave' | 'pass', mnoId?, iccid? }` (owner + step-up). */
  start(owner: OwnerCaller, eid: string, input: unknown) {
    const steps: Array<Step<StartContext>> = [
      { name: 'step-up', run: (c) => requireStepUp(c.owner.identity, { maxAgeSeconds: STEP_UP_MAX_AGE_SECONDS, now: this.deps.now }) },
      { name: 'validate', run: (c) => this.validateStart(c) },
      { name: 'issue-code', run: (c) => this.issueCode(c) },
    ];
    return this.audit.run(owner, 'transfer.start', { eid }, async (scope) => {
      const context = await runSteps(steps, { owner, eid, body: bodyOf(input) });
      scope.target = `transfer:${context.result!.transferId}`;
      return context.result!;
    });
  }

  private validateStart(c: StartContext): void {
    c.subscription = oneOf(c.body, 'subscription', ['leave', 'pass'] as const);
    c.mnoId = optionalText(c.body, 'mnoId', ID_PATTERN, 'an MNO id');
    c.iccid = optionalText(c.body, 'iccid', ICCID, 'an ICCID');
    const connector = c.mnoId ? this.deps.config.mnos.get(c.mnoId) : undefined;
    if (c.mnoId && !connector) throw new OwnerError.BadRequest('mnoId: a known MNO');
    if (c.subscription === 'pass') {
      if (!connector) throw new OwnerError.BadRequest("mnoId: the MNO whose subscription passes ('pass')");
      if (!connector.acceptsTransfers) throw new OwnerError.TransferNotAllowed(`MNO ${c.mnoId} does not accept subscription transfers`);
    } else if (connector) {
      // 'leave' with a named subscription: the registry will delete that profile after the sale.
      if (!c.iccid) throw new OwnerError.BadRequest("iccid: the profile that leaves with the seller ('leave' with mnoId)");
      if (!connector.es2Url || !connector.es2ApiKey || !connector.smsrId) throw new OwnerError.MnoUnavailable(`MNO ${c.mnoId} has no ES2 connector`);
    }
  }

  private async issueCode(c: StartContext): Promise<void> {
    const code = generateTransferCode();
    const now = this.deps.now();
    const id = randomUUID();
    const expiresAt = new Date(now.getTime() + TRANSFER_TTL_MS);
    await this.deps.store.transaction(async (tx) => {
      const { device } = await deviceFor(tx, c.eid, subjectOf(c.owner), 'owner');
      if (device.status !== 'Active') throw new OwnerError.DeviceNotActive('a suspended device cannot be sold');
      // A new code replaces any pending one.
      await tx.transfers.burnPending(c.eid, now);
      await tx.transfers.insert({
        id, eid: c.eid, codeHash: hashCode(code), sellerIss: c.owner.identity.iss, sellerSub: c.owner.identity.sub,
        subscription: c.subscription!, mnoId: c.mnoId ?? null, iccid: c.iccid ?? null, expiresAt, attempts: 0,
        usedAt: null, burnedAt: null, buyerIss: null, buyerSub: null, createdAt: now,
      });
    });
    c.result = { transferId: id, transferCode: code, expiresAt: expiresAt.toISOString() };
  }

  /** POST /transfers/redeem `{ deviceUrl, transferCode }` (the buyer). */
  redeem(buyer: OwnerCaller, input: unknown) {
    const steps: Array<Step<RedeemContext>> = [
      { name: 'rate-limit', run: (c) => this.audit.checkGuessRate(c.buyer) },
      { name: 'verify-code', run: (c) => this.verifyCode(c) },
      { name: 'move-ownership', run: (c) => this.deps.store.transaction((tx) => this.moveOwnership(tx, c)) },
    ];
    return this.audit.run(buyer, 'transfer.redeem', {}, async (scope) => {
      const context = await runSteps(steps, { buyer, body: bodyOf(input), scope });
      this.deps.kickOutbox();
      return { eid: context.device!.eid, deviceUrl: context.device!.deviceUrl, role: 'owner', consentEpoch: context.device!.consentEpoch + 1 };
    });
  }

  private async verifyCode(c: RedeemContext): Promise<void> {
    const deviceUrl = text(c.body, 'deviceUrl', /^https?:\/\/\S{1,500}$/, 'a device URL');
    const code = text(c.body, 'transferCode', CODE, 'the transfer code');
    const now = this.deps.now();
    const device = await this.deps.store.devices.byUrl(deviceUrl);
    if (device) c.scope.eid = device.eid;
    const transfer = device ? await this.deps.store.transfers.latestPending(device.eid, now) : null;
    const matches = codeMatches(code, transfer?.codeHash ?? hashCode('no-transfer'));
    if (!device || !transfer || !matches) {
      if (transfer) {
        const attempts = transfer.attempts + 1;
        await this.deps.store.transfers.recordWrongCode(transfer.id, attempts, attempts >= TRANSFER_MAX_ATTEMPTS ? now : undefined);
      }
      throw new OwnerError.TransferCodeInvalid('wrong, expired or used transfer code');
    }
    c.scope.target = `transfer:${transfer.id}`;
    c.seller = { iss: transfer.sellerIss, sub: transfer.sellerSub };
    if (sameSubject(c.seller, subjectOf(c.buyer))) throw new OwnerError.TransferNotAllowed('the owner cannot buy her own device');
    if (device.status !== 'Active') throw new OwnerError.DeviceNotActive('a suspended device cannot be sold');
    c.device = device;
    c.transfer = transfer;
  }

  private async moveOwnership(tx: RegistryUnit, c: RedeemContext): Promise<void> {
    const now = this.deps.now();
    const device = c.device!;
    const transfer = c.transfer!;
    const buyer = subjectOf(c.buyer);
    const seller = c.seller!;
    // 1 use-code: conditional, so two buyers racing cannot both win.
    if (!(await tx.transfers.use(transfer.id, buyer, now))) throw new OwnerError.TransferCodeInvalid('wrong, expired or used transfer code');
    const currentOwner = await tx.grants.ownerOf(device.eid);
    if (!currentOwner || !sameSubject({ iss: currentOwner.subjectIss, sub: currentOwner.subjectSub }, seller)) {
      throw new OwnerError.TransferCodeInvalid('the seller no longer owns the device');
    }
    // 2 revoke-grants, 3 grant-buyer
    await tx.grants.revokeOnDevice(device.eid, now);
    await tx.owners.remember(buyer, now);
    await tx.grants.insert({
      id: randomUUID(), scope: 'device', eid: device.eid, groupId: null, role: 'owner', subjectIss: buyer.iss, subjectSub: buyer.sub,
      createdByIss: seller.iss, createdBySub: seller.sub, createdAt: now, revokedAt: null,
    });
    // 4 unlink-groups
    await tx.groups.unlinkDevice(device.eid, now);
    // 5 bump-epoch
    await revokeAllConsents(tx, device.eid, now);
    await tx.devices.update(device.eid, { consentEpoch: device.consentEpoch + 1, recentlyTransferredAt: now });
    // 6 snapshot-settings
    await tx.snapshots.insert({
      id: randomUUID(), ownerIss: seller.iss, ownerSub: seller.sub, model: device.model, settings: device.settings, sourceDeviceUrl: device.deviceUrl, createdAt: now,
    });
    // 7 enqueue
    await tx.outbox.enqueue({
      destination: `${DESTINATION.mqtt}${ownerNotificationTopic(seller)}`,
      payload: { event: 'device-sold', deviceUrl: device.deviceUrl, eid: device.eid, subscription: transfer.subscription, at: now.toISOString() },
    });
    await touchAndPublish(tx, device.eid, now);
    if (transfer.subscription === 'leave' && transfer.mnoId && transfer.iccid) {
      const job: Es2Job = { kind: 'resale-leave', mnoId: transfer.mnoId, eid: device.eid, iccid: transfer.iccid, epoch: device.consentEpoch + 1, functions: ['disableProfile', 'deleteProfile'] };
      // 1 s after the status: the SM-DP should know the new epoch before the consent minted at it arrives.
      await tx.outbox.enqueue({ destination: `${DESTINATION.es2}${transfer.mnoId}`, payload: job, notBefore: new Date(now.getTime() + 1000) });
    }
  }
}
