/**
 * Profile life-cycle functions shared by ES3 (requester = SM-DP) and ES4 (requester = MNO): enable,
 * disable, delete, update POL2 (SGP.02 §3.2–§3.4 procedures, §5.4 / §5.6 functions, §4.1.1 ES5).
 *
 * | # | step | spec |
 * |---|---|---|
 * | 1 | euicc: the EID is registered (8.1.1 / 3.9) | §5.4 |
 * | 2 | owner: the profile's smdpId (ES3) / mnoId (ES4) is the requester's (8.2.1 / 1.2) | §5.4, §5.6 |
 * | 3 | state: the profile is in a state allowing the function (8.2.1 / 1.2) | §3.2–§3.4 |
 * | 4 | pol2: POL2 of the profile (and of the one implicitly disabled) allows it (8.2.3) | §2.4.5 policy rules |
 * | 5 | es5: the ISD-R command in an SCP03 session, before the deadline | §4.1.1.2–§4.1.1.4 |
 * | 6 | record: the registry follows the card (enable disables the previous one; disable enables the fall-back) | §3.2, §3.3 |
 * | 7 | notify: Handle*Notification to the SM-DP and the MNO, through the outbox, in the same transaction | §5.4, §5.6 |
 * | 8 | auto-delete: POL2 "delete when disabled" deletes the profile just disabled | §2.4.5 |
 */
import { checkPol2, STATUS_CODE, StatusError, type PolicyRule, type ProfileOperation, type StatusCodeData } from '@rsp/contracts';
import { deleteApdu, disableApdu, enableApdu } from '@rsp/offcard';
import { SW } from '@rsp/tlv';
import type { CardCall, CardGateway } from './card-gateway';
import { CardStatusError, SMSR_STATUS } from './errors';
import { describe } from './function-runner';
import type { EisRegistry, EuiccRecord, ProfileRecord, RegistryTransaction, SmSrLogger } from './model';
import type { NotificationPlanner, ProfileChange } from './notifications';

/** Who calls: an SM-DP over ES3 or an MNO over ES4; ownership is checked against the matching profile field. */
export interface Requester {
  role: 'smdp' | 'mno';
  id: string;
}

export const owns = (requester: Requester) => (profile: ProfileRecord) =>
  (requester.role === 'smdp' ? profile.smdpId : profile.mnoId) === requester.id;

export interface ProfileOperationsDependencies {
  registry: EisRegistry;
  cards: CardGateway;
  planner: NotificationPlanner;
  logger: SmSrLogger;
  now: () => Date;
}

export class ProfileOperations {
  constructor(private readonly deps: ProfileOperationsDependencies) {}

  async requireEuicc(eid: string): Promise<EuiccRecord> {
    const record = await this.deps.registry.find(eid);
    if (!record) throw new StatusError(STATUS_CODE.EID_UNKNOWN, eid); // 1
    return record;
  }

  requireOwned(record: EuiccRecord, iccid: string, requester: Requester, notOwned: StatusCodeData = SMSR_STATUS.PROFILE_NOT_OWNED): ProfileRecord {
    const profile = record.profiles.find((candidate) => candidate.iccid === iccid);
    if (!profile) throw new StatusError(STATUS_CODE.ICCID_UNKNOWN, iccid);
    if (!owns(requester)(profile)) throw new StatusError(notOwned, iccid); // 2
    return profile;
  }

  /** EnableProfile (ES3 §5.4 / ES4 §5.6; ES5 §4.1.1.2). */
  enable(eid: string, iccid: string, requester: Requester, call?: CardCall): Promise<Record<string, never>> {
    const deadline = call?.deadline;
    return this.deps.cards.exclusive(eid, async () => {
      const record = await this.requireEuicc(eid);
      const target = this.requireOwned(record, iccid, requester);
      if (target.state !== 'Disabled') throw new StatusError(STATUS_CODE.ICCID_WRONG_STATE, iccid); // 3
      requirePol2(target, 'enable'); // 4
      const current = record.profiles.find((profile) => profile.state === 'Enabled' && profile.iccid !== iccid);
      const currentDecision = current ? requirePol2(current, 'disable') : undefined; // enabling B disables A
      await this.deps.cards.checked(eid, [{ name: 'EnableProfile', apdu: enableApdu(target.isdpAid) }], deadline); // 5
      await this.deps.registry.transaction(async (tx) => {
        await this.change(tx, target, 'Enabled'); // 6, 7
        if (current) await this.change(tx, current, 'Disabled');
      });
      if (current && currentDecision?.deleteAfter) await this.autoDelete(record, current, deadline); // 8
      return {};
    }, call);
  }

  /** DisableProfile (ES3 §5.4 / ES4 §5.6; ES5 §4.1.1.3): the card enables the fall-back profile instead. */
  disable(eid: string, iccid: string, requester: Requester, call?: CardCall): Promise<Record<string, never>> {
    const deadline = call?.deadline;
    return this.deps.cards.exclusive(eid, async () => {
      const record = await this.requireEuicc(eid);
      const target = this.requireOwned(record, iccid, requester);
      if (target.state !== 'Enabled') throw new StatusError(STATUS_CODE.ICCID_WRONG_STATE, iccid); // 3
      if (target.fallback) throw new StatusError(SMSR_STATUS.FALLBACK_PROFILE, iccid);
      const fallback = record.profiles.find((profile) => profile.fallback && profile.state !== 'Created');
      if (!fallback) throw new StatusError(STATUS_CODE.ICCID_WRONG_STATE, iccid); // the card keeps one profile enabled
      const decision = requirePol2(target, 'disable'); // 4
      await this.deps.cards.checked(eid, [{ name: 'DisableProfile', apdu: disableApdu(target.isdpAid) }], deadline); // 5
      await this.deps.registry.transaction(async (tx) => {
        await this.change(tx, target, 'Disabled'); // 6, 7
        await this.change(tx, fallback, 'Enabled');
      });
      if (decision.deleteAfter) await this.autoDelete(record, target, deadline); // 8
      return {};
    }, call);
  }

  /** ES3 DeleteISDP / ES4 DeleteProfile (ES5 §4.1.1.4, GP DELETE): never the enabled nor the fall-back profile. */
  delete(eid: string, iccid: string, requester: Requester, call?: CardCall): Promise<Record<string, never>> {
    const deadline = call?.deadline;
    return this.deps.cards.exclusive(eid, async () => {
      const record = await this.requireEuicc(eid);
      const target = this.requireOwned(record, iccid, requester);
      if (target.state === 'Enabled') throw new StatusError(SMSR_STATUS.ENABLED_PROFILE_NOT_DELETABLE, iccid); // 3
      if (target.fallback) throw new StatusError(SMSR_STATUS.FALLBACK_PROFILE, iccid);
      requirePol2(target, 'delete'); // 4
      await this.deleteOnCard(record, target, deadline);
      return {};
    }, call);
  }

  /** UpdatePolicyRules (ES3 / ES4): replaces POL2 of the requester's profile (8.2.3 / 2.1 when not its own). */
  updatePolicyRules(eid: string, iccid: string, pol2: PolicyRule[], requester: Requester): Promise<Record<string, never>> {
    return this.deps.cards.exclusive(eid, async () => {
      const record = await this.requireEuicc(eid);
      const target = this.requireOwned(record, iccid, requester, STATUS_CODE.POL2_NOT_OWNER);
      await this.deps.registry.transaction((tx) => tx.saveProfile({ ...target, pol2 }));
      return {};
    });
  }

  /**
   * UpdateSubscriptionAddress (ES3 / ES4, SGP.02 §5.4 / §5.6 [U numbering]): the SM-SR records the new
   * IMSI and/or MSISDN of the profile in the EIS. The address is how the network reaches the profile (SMS
   * to the card); nothing on the card changes, so there is no ES5 exchange. What is not given is kept.
   */
  updateSubscriptionAddress(eid: string, iccid: string, address: { imsi?: string; msisdn?: string }, requester: Requester): Promise<Record<string, never>> {
    return this.deps.cards.exclusive(eid, async () => {
      const record = await this.requireEuicc(eid); // 1
      const target = this.requireOwned(record, iccid, requester); // 2
      const subscriptionAddress = { ...target.subscriptionAddress, ...address };
      await this.deps.registry.transaction((tx) => tx.saveProfile({ ...target, subscriptionAddress }));
      return {};
    });
  }

  /** The card runs DELETE; the registry drops the profile and gets its memory back; owners are told. */
  private async deleteOnCard(record: EuiccRecord, target: ProfileRecord, deadline?: number): Promise<void> {
    try {
      await this.deps.cards.checked(record.eid, [{ name: 'DeleteProfile', apdu: deleteApdu(target.isdpAid) }], deadline); // 5
    } catch (error) {
      // 6A88: the ISD-P is not on the card (an earlier delete whose answer was lost): the goal is reached.
      if (!(error instanceof CardStatusError && error.sw === SW.REFERENCED_DATA_NOT_FOUND)) throw error;
    }
    await this.deps.registry.transaction(async (tx) => {
      await tx.deleteProfile(record.eid, target.iccid);
      const remaining = record.remainingMemory + (target.allocatedMemory ?? 0); // record was read under the card lock
      await tx.updateEuicc(record.eid, { remainingMemory: remaining, availableMemoryForProfiles: remaining });
      if (target.state !== 'Created') await this.notify(tx, target, 'Deleted'); // 7 (a failed download's cleanup is not news)
    });
  }

  private async autoDelete(record: EuiccRecord, profile: ProfileRecord, deadline?: number): Promise<void> {
    try {
      await this.deleteOnCard(record, { ...profile, state: 'Disabled' }, deadline);
    } catch (error) {
      this.deps.logger.warn(`POL2 auto-delete of ${profile.iccid} on ${record.eid} failed: ${describe(error)}`, { eid: record.eid });
    }
  }

  private async change(tx: RegistryTransaction, profile: ProfileRecord, state: 'Enabled' | 'Disabled'): Promise<void> {
    if (profile.state === state) return;
    await tx.saveProfile({ ...profile, state });
    await this.notify(tx, profile, state);
  }

  async notify(tx: RegistryTransaction, profile: ProfileRecord, change: ProfileChange): Promise<void> {
    for (const message of this.deps.planner.messagesFor(profile, change, this.deps.now())) await tx.enqueue(message);
  }
}

function requirePol2(profile: ProfileRecord, operation: ProfileOperation) {
  const decision = checkPol2(profile.pol2, operation);
  if (!decision.allowed) throw new StatusError(SMSR_STATUS.POL2_REFUSED, profile.iccid);
  return decision;
}
