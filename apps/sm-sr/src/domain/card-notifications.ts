/**
 * Card notifications (SGP.02 §4.1.1.11 [U]: the eUICC reports profile changes and its declaration with
 * an `E1` TLV, resent until the SM-SR confirms it with HandleNotificationConfirmation `3A08 { 4E seq }`).
 *
 * | # | step | spec |
 * |---|---|---|
 * | 1 | decode: E1 { 4C EID, 4D type, 4E seq, 2F AID? }; the EID must be registered | §4.1.1.11 |
 * | 2 | confirm: STORE DATA 3A08 over ES5; 6A88 = already confirmed (seq is the idempotency key) | §4.1.1.11 |
 * | 3 | follow: a change the SM-SR did not order (fall-back, type 05) updates the registry and notifies owners | §3.5 [U] |
 * | 4 | deleted: ISD-Ps the card deleted on confirmation (POL1 "delete when disabled") leave the registry | §3.2 |
 */
import { confirmNotificationApdu, NOTIFICATION_TYPE } from '@rsp/offcard';
import type { es5 } from '@rsp/contracts';
import { decodeSingleTlv, decodeTlvs, findTlv, isSuccessSw, SW } from '@rsp/tlv';
import type { CardGateway } from './card-gateway';
import { CardStatusError } from './errors';
import type { EisRegistry, SmSrLogger } from './model';
import type { ProfileOperations } from './profile-operations';

export interface DecodedCardNotification {
  type: number;
  seq: number;
  aid?: string;
}

const TYPE_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(NOTIFICATION_TYPE).map(([name, value]) => [value, name.toLowerCase().replace(/_/g, '-')]),
);

export function decodeCardNotification(tlvHex: string): DecodedCardNotification {
  const fields = decodeTlvs(decodeSingleTlv(Buffer.from(tlvHex, 'hex')).value);
  const type = findTlv(fields, 0x4d)?.value[0] ?? 0;
  const seqTlv = findTlv(fields, 0x4e);
  const seq = seqTlv && seqTlv.value.length === 2 ? seqTlv.value.readUInt16BE(0) : -1;
  const aid = findTlv(fields, 0x2f)?.value.toString('hex').toUpperCase();
  return { type, seq, ...(aid ? { aid } : {}) };
}

export type CardNotificationOutcome = 'confirmed' | 'already-confirmed' | 'unknown-eid';

export class CardNotificationHandler {
  constructor(
    private readonly registry: EisRegistry,
    private readonly cards: CardGateway,
    private readonly profiles: ProfileOperations,
    private readonly logger: SmSrLogger,
  ) {}

  async handle(envelope: es5.Es5NotificationEnvelope): Promise<CardNotificationOutcome> {
    if (!(await this.registry.find(envelope.eid))) {
      this.logger.warn(`card notification from unregistered EID ${envelope.eid} ignored`, { eid: envelope.eid }); // 1
      return 'unknown-eid';
    }
    const decoded = decodeCardNotification(envelope.tlv);
    const seq = decoded.seq >= 0 ? decoded.seq : envelope.seq;
    this.logger.log(`card ${envelope.eid} notification #${seq}: ${TYPE_NAMES[decoded.type] ?? `type ${decoded.type}`}${decoded.aid ? ` (${decoded.aid})` : ''}`, { eid: envelope.eid });
    return this.cards.exclusive(envelope.eid, async () => {
      const [response] = await this.cards.raw(envelope.eid, [confirmNotificationApdu(seq)]); // 2
      if (!response) throw new CardStatusError(0x6f00, 'HandleNotificationConfirmation');
      if (response.sw === SW.REFERENCED_DATA_NOT_FOUND) return 'already-confirmed';
      if (!isSuccessSw(response.sw)) throw new CardStatusError(response.sw, 'HandleNotificationConfirmation');
      await this.follow(envelope.eid, decoded, deletedAids(response.data)); // 3, 4
      return 'confirmed';
    });
  }

  private async follow(eid: string, notification: DecodedCardNotification, deleted: string[]): Promise<void> {
    const record = await this.registry.find(eid);
    if (!record) return;
    const switchedTo = notification.type === NOTIFICATION_TYPE.PROFILE_CHANGE_AFTER_FALLBACK ? notification.aid : undefined;
    const target = switchedTo ? record.profiles.find((profile) => profile.isdpAid === switchedTo) : undefined;
    const gone = record.profiles.filter((profile) => deleted.includes(profile.isdpAid));
    if ((!target || target.state === 'Enabled') && gone.length === 0) return;
    await this.registry.transaction(async (tx) => {
      if (target && target.state !== 'Enabled') {
        for (const profile of record.profiles.filter((candidate) => candidate.state === 'Enabled')) {
          await tx.saveProfile({ ...profile, state: 'Disabled' });
          await this.profiles.notify(tx, profile, 'Disabled');
        }
        await tx.saveProfile({ ...target, state: 'Enabled' });
        await this.profiles.notify(tx, target, 'Enabled');
      }
      let remaining = record.remainingMemory;
      for (const profile of gone) {
        await tx.deleteProfile(eid, profile.iccid);
        await this.profiles.notify(tx, profile, 'Deleted');
        remaining += profile.allocatedMemory ?? 0;
      }
      if (gone.length > 0) await tx.updateEuicc(eid, { remainingMemory: remaining, availableMemoryForProfiles: remaining });
    });
  }
}

/** `80 { 4F AID }*`: the ISD-Ps deleted by the confirmation. */
function deletedAids(data: Buffer): string[] {
  if (data.length === 0) return [];
  const list = findTlv(decodeTlvs(data), 0x80);
  return list ? decodeTlvs(list.value).filter((tlv) => tlv.tag === 0x4f).map((tlv) => tlv.value.toString('hex').toUpperCase()) : [];
}
