/**
 * AuditEIS (SGP.02 §5.4 ES3 / §5.6 ES4 [U numbering]; ES5 §4.1.1 audit): ask the card, then make the
 * registry match it.
 *
 * | # | step | spec |
 * |---|---|---|
 * | 1 | es5: GET DATA FF21 (free memory) then GET STATUS 40 02 (every ISD-P) | GP CS §11.3, §11.4 |
 * | 2 | states: each registered profile takes the card's life cycle and fall-back attribute | §2.2.1.2 |
 * | 3 | gone: registered profiles the card no longer holds are dropped | §3.4 |
 * | 4 | memory + lastAuditDate updated | Annex E |
 */
import { getStatusApdu, ISDP_LIFE_CYCLE } from '@rsp/offcard';
import type { ProfileState } from '@rsp/contracts';
import { decodeTlvs, findTlv, isSuccessSw, SW, type CommandApdu } from '@rsp/tlv';
import type { CardGateway } from './card-gateway';
import { CardStatusError } from './errors';
import type { EisRegistry, EuiccRecord, SmSrLogger } from './model';

/** GET DATA `80 CA FF 21`: extended card resources (ETSI TS 102 226 §8.2.1.7.2 [U]). */
const GET_CARD_RESOURCES: CommandApdu = { cla: 0x80, ins: 0xca, p1: 0xff, p2: 0x21, data: Buffer.alloc(0), le: 256 };
/** Tag 53 bit b1: fall-back attribute (as libs/card/src/handlers/isd-r-audit.ts codes it [U]). */
const PROPERTY_FALLBACK = 0x01;

export interface CardIsdp {
  aid: string;
  state: ProfileState;
  fallback: boolean;
}

export function stateOfLifeCycle(lifeCycle: number): ProfileState {
  if (lifeCycle === ISDP_LIFE_CYCLE.ENABLED) return 'Enabled';
  if (lifeCycle === ISDP_LIFE_CYCLE.DISABLED) return 'Disabled';
  return 'Created';
}

/** Parses GET STATUS: `E3 { 4F AID, 9F70 life cycle, 53 properties, … }*`. */
export function parseGetStatus(data: Buffer): CardIsdp[] {
  return decodeTlvs(data)
    .filter((entry) => entry.tag === 0xe3)
    .map((entry) => {
      const fields = decodeTlvs(entry.value);
      const aid = findTlv(fields, 0x4f)?.value.toString('hex').toUpperCase() ?? '';
      const lifeCycle = findTlv(fields, 0x9f70)?.value[0] ?? 0;
      const properties = findTlv(fields, 0x53)?.value[0] ?? 0;
      return { aid, state: stateOfLifeCycle(lifeCycle), fallback: (properties & PROPERTY_FALLBACK) !== 0 };
    });
}

/** Free non-volatile memory from `FF21 { 82 free NV }`. */
export function parseFreeMemory(data: Buffer): number | undefined {
  const resources = findTlv(decodeTlvs(data), 0xff21);
  const free = resources ? findTlv(decodeTlvs(resources.value), 0x82) : undefined;
  return free && free.value.length > 0 && free.value.length <= 4 ? free.value.readUIntBE(0, free.value.length) : undefined;
}

export class AuditFunction {
  constructor(
    private readonly registry: EisRegistry,
    private readonly cards: CardGateway,
    private readonly logger: SmSrLogger,
    private readonly now: () => Date,
  ) {}

  /** Audits `record`'s card (the caller holds the card lock) and returns the updated record. */
  async audit(record: EuiccRecord, deadline?: number): Promise<EuiccRecord> {
    const [resources, status] = await this.cards.raw(record.eid, [GET_CARD_RESOURCES, getStatusApdu()], deadline); // 1
    if (!resources || !isSuccessSw(resources.sw)) throw new CardStatusError(resources?.sw ?? 0x6f00, 'GET DATA FF21');
    if (!status) throw new CardStatusError(0x6f00, 'GET STATUS');
    if (!isSuccessSw(status.sw) && status.sw !== SW.REFERENCED_DATA_NOT_FOUND) throw new CardStatusError(status.sw, 'GET STATUS');
    const onCard = new Map((isSuccessSw(status.sw) ? parseGetStatus(status.data) : []).map((isdp) => [isdp.aid, isdp]));
    const free = parseFreeMemory(resources.data) ?? record.remainingMemory;
    const auditedAt = this.now();
    await this.registry.transaction(async (tx) => {
      for (const profile of record.profiles) {
        const card = onCard.get(profile.isdpAid.toUpperCase());
        if (!card) {
          this.logger.warn(`audit ${record.eid}: ISD-P ${profile.isdpAid} (${profile.iccid}) is gone from the card`);
          await tx.deleteProfile(record.eid, profile.iccid); // 3
        } else if (card.state !== profile.state || card.fallback !== profile.fallback) {
          await tx.saveProfile({ ...profile, state: card.state, fallback: card.fallback }); // 2
        }
      }
      await tx.updateEuicc(record.eid, { remainingMemory: free, availableMemoryForProfiles: free, lastAuditDate: auditedAt }); // 4
    });
    const known = new Set(record.profiles.map((profile) => profile.isdpAid.toUpperCase()));
    for (const aid of onCard.keys()) if (!known.has(aid)) this.logger.warn(`audit ${record.eid}: ISD-P ${aid} is not in the registry`, { eid: record.eid });
    return (await this.registry.find(record.eid)) ?? record;
  }
}
