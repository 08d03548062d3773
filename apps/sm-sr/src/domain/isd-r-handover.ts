/**
 * The ISD-R key set handover at first contact: ES5 is secured with the ISD-R key set, and the one the
 * EUM hands over at ES1 registration (KVN 0x30, the public TEST derivation in this demo) is replaced by
 * one only this SM-SR knows, with GP Amd E Scenario#3 authenticated by CERT.SR.ECDSA (SGP.02 §3.1.2
 * mechanism, §3.8 SM-SR change steps [U numbering]; es5/isd-r-key-establishment.ts).
 *
 * When: lazily, before the first ES5 exchange with a card whose registry key set is still the EUM's
 * (CardGateway.raw calls {@link IsdRKeyHandover.ensure}). Not at RegisterEIS: a card is often still
 * offline when its EUM registers it, and ES1 must not fail or wait for it. The card lock of the
 * operation that needs ES5 is held (in-process and, across instances, the card lease), so concurrent
 * first operations on a card queue behind one handover.
 *
 * | # | step | spec |
 * |---|---|---|
 * | 1 | establish: 3A01 CERT.SR.ECDSA, 3A02 ePK.SR.ECKA over the current (EUM) keys; receipt verified | GP Amd E Scenario#3, §3.8 [U] |
 * | 2 | store: the new set sealed in the registry, the old KVN marked "to retire" (compare-and-set) | §5.5 / Annex E |
 * | 3 | finalise: DELETE the old KVN over a session with the NEW keys, first in the script of the operation that needed ES5 (CardGateway.raw: one ES5 exchange fewer); 6A88 = already gone | ES5.FinaliseISDRhandover §3.8 [U] |
 * | 4 | settle: the registry forgets the KVN to retire | — |
 *
 * Restart safety — every crash point leaves the registry with a key set that opens the card:
 * - during 1: the registry still holds the EUM keys, which the card still has (the new set may exist on
 *   the card unknown to us); the next attempt re-establishes the same KVN, which replaces it.
 * - between 1 and 2: same as above (the keys were only in memory).
 * - between 2 and 3 (or 3's answer lost): the registry holds the new set, which the card holds since
 *   its receipt verified; the stored "retire" list makes the next operation run step 3 again.
 * - between 3 and 4: step 3 again answers 6A88 (already deleted), then 4.
 * Several SM-SR instances on one database: the card lock includes the database lease of card-lease.ts,
 * so one instance at a time runs the handover on a card; the others then find the new set in the
 * registry (the compare-and-set of step 2 stays as a second guard, e.g. for a lease lost mid-way).
 */
import type { KeyObject } from 'node:crypto';
import { isSuccessSw, SW, type CommandApdu, type ResponseApdu } from '@rsp/tlv';
import type { Es5Channel } from '../es5/es5-channel';
import { buildDeleteIsdRKeySets, establishIsdRKeySet, SMSR_ISD_R_KVN } from '../es5/isd-r-key-establishment';
import { CardStatusError, IsdRKeysChangedError } from './errors';
import type { EisRegistry, IsdRKeyRecord, SmSrLogger } from './model';

export interface IsdRHandoverOptions {
  registry: EisRegistry;
  /** Must open its sessions with the registry's current key set (so step 3 runs with the new keys). */
  es5: Es5Channel;
  /** CERT.SR.ECDSA (GP 7F21). */
  smsrCertificate: Uint8Array;
  /** SK.SR.ECDSA. @secret */
  smsrPrivateKey: KeyObject;
  logger: SmSrLogger;
}

export class IsdRKeyHandover {
  /** Cards seen with the SM-SR's own key set and nothing left to retire (no registry read needed). */
  private readonly settled = new Set<string>();
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly options: IsdRHandoverOptions) {}

  /** Makes sure `eid` is on the SM-SR's own ISD-R key set; a no-op once done. Throws what ES5 throws. */
  ensure(eid: string, deadline?: number): Promise<void> {
    if (this.settled.has(eid)) return Promise.resolve();
    const running = this.running.get(eid);
    if (running) return running; // a caller outside the card lock joins the handover in progress
    const work = this.run(eid, deadline).finally(() => this.running.delete(eid));
    this.running.set(eid, work);
    return work;
  }

  private async run(eid: string, deadline?: number): Promise<void> {
    const { registry } = this.options;
    const state = await registry.isdRKeyRecord(eid);
    if (!state) return; // unregistered: the caller's own ES5 exchange reports it
    if (!state.establishedBySmsr) await this.establish(eid, state, deadline);
    // Step 3 travels with the caller's commands ({@link retiring}, {@link retired}); settled after it.
  }

  /**
   * After {@link ensure}: the key sets still to delete (step 3) with the record they were read from, or
   * undefined when nothing is left to retire. The caller sends {@link retireCommand} first in its script.
   */
  async retiring(eid: string): Promise<IsdRKeyRecord | undefined> {
    if (this.settled.has(eid)) return undefined;
    const state = await this.options.registry.isdRKeyRecord(eid);
    if (!state || !state.establishedBySmsr) return undefined; // unregistered, or no handover possible (no SM-SR credential)
    if (state.retireKvns.length === 0) {
      this.settled.add(eid);
      return undefined;
    }
    return state;
  }

  /** ES5.FinaliseISDRhandover's command for `state` (step 3). */
  retireCommand(state: IsdRKeyRecord): CommandApdu {
    return buildDeleteIsdRKeySets(state.retireKvns);
  }

  /**
   * The card's answer to {@link retireCommand}: 9000, or 6A88 (no such KVN: an earlier FinaliseISDRhandover
   * ran and its answer was lost), settles step 4; any other status word throws CardStatusError, the key
   * sets staying "to retire" for the next operation.
   */
  async retired(eid: string, state: IsdRKeyRecord, answer: ResponseApdu | undefined): Promise<void> {
    if (!answer) throw new CardStatusError(0x6f00, 'DELETE ISD-R key sets'); // not executed
    if (!isSuccessSw(answer.sw) && answer.sw !== SW.REFERENCED_DATA_NOT_FOUND) throw new CardStatusError(answer.sw, 'DELETE ISD-R key sets');
    if (!(await this.options.registry.replaceIsdRKeys(eid, { ...state, retireKvns: [] }, state.revision))) {
      throw new IsdRKeysChangedError(`the ISD-R key set of ${eid} changed during the handover`); // 4
    }
    this.settled.add(eid);
    this.options.logger.log(`ISD-R of ${eid}: KVN ${state.retireKvns.map(hex).join(', ')} deleted (FinaliseISDRhandover)`, { eid });
  }

  private async establish(eid: string, current: IsdRKeyRecord, deadline?: number): Promise<void> {
    const { registry } = this.options;
    const record = await registry.find(eid);
    if (!record) throw new IsdRKeysChangedError(`EID ${eid} left the registry during the ISD-R handover`);
    // A KVN different from the one in use, so the new set never overwrites the keys of this session.
    const kvn = current.keys.kvn === SMSR_ISD_R_KVN ? SMSR_ISD_R_KVN + 1 : SMSR_ISD_R_KVN;
    const keys = await establishIsdRKeySet(this.options.es5, eid, {
      smsrCertificate: this.options.smsrCertificate,
      smsrPrivateKey: this.options.smsrPrivateKey,
      ecasdCertificate: Buffer.from(record.signedInfo.ecasd.certificate, 'hex'), // verified against the EUM at ES1
      kvn,
      ...(deadline === undefined ? {} : { deadline }),
    }); // 1
    const next = { keys, establishedBySmsr: true, retireKvns: [current.keys.kvn] };
    if (!(await registry.replaceIsdRKeys(eid, next, current.revision))) {
      throw new IsdRKeysChangedError(`the ISD-R key set of ${eid} changed during the handover`); // 2 lost the race
    }
    this.options.logger.log(`ISD-R of ${eid}: key set KVN ${hex(kvn)} established (Scenario#3), KVN ${hex(current.keys.kvn)} to retire`, { eid });
    if (!(await registry.isdRKeyRecord(eid))) throw new IsdRKeysChangedError(`EID ${eid} left the registry during the ISD-R handover`);
  }
}

const hex = (kvn: number) => kvn.toString(16).toUpperCase().padStart(2, '0');
