/**
 * The ES3 functions of a profile download (SGP.02 §3.1.1 procedure, §5.4 functions), requester = SM-DP.
 *
 * CreateISDP (§3.1.1 step "create ISD-P", ES5 §4.1.1.1):
 * | # | step | spec |
 * |---|---|---|
 * | 1 | euicc: EID registered (8.1.1 / 3.9) | §5.4 |
 * | 2 | iccid-free: no registered profile holds the ICCID (8.2.1 / 3.3) | §3.1.1 |
 * | 3 | memory: requiredMemory fits the remaining memory (8.1 / 4.8) | §3.1.1 |
 * | 4 | allocate: the next free ISD-P AID (A0000005591010FFFFFFFF89 nnnnnn 00) | Annex H |
 * | 5 | es5: INSTALL [for install and make selectable] with the quota | §4.1.1.1, GP CS §11.5 |
 * | 6 | record: profile Created, owned by {smdpId, mnoId}; memory reserved | §3.1.1 |
 *
 * SendData (§3.1.2–§3.1.3 ES8 through ES3): the SM-DP's `AA` command script runs on the ISD-R inside the
 * SM-SR's ES5 session, the `AB` response script goes back; only on an ISD-P the requester owns, and only
 * ES8 commands for it (send-data-filter.ts).
 *
 * ProfileDownloadCompleted (§3.1.1 last step): Created → Disabled, with POL2, profile type, subscription address.
 */
import { createIsdpApdu, decodeCommandScript, encodeResponseScript, isdpAid } from '@rsp/offcard';
import { ContractError, STATUS_CODE, StatusError, type es3 } from '@rsp/contracts';
import { decodeCommandApdu, encodeResponseApdu, SW, type CommandApdu } from '@rsp/tlv';
import type { CardGateway } from './card-gateway';
import { CardStatusError, SMSR_STATUS } from './errors';
import type { CallContext } from './function-runner';
import type { EisRegistry, ProfileRecord } from './model';
import type { ProfileOperations } from './profile-operations';
import { requireEs8Script } from './send-data-filter';

/** createIsdpApdu codes the quota on two bytes (`EF { 83 02 quota }`), so one ISD-P gets at most 64 KiB − 1 [U]. */
export const MAX_ISDP_QUOTA = 0xffff;
/** AIDs tried when the card already holds the allocated one (an ISD-P the registry does not know). */
const AID_ATTEMPTS = 4;

export class DownloadFunctions {
  constructor(
    private readonly registry: EisRegistry,
    private readonly cards: CardGateway,
    private readonly profiles: ProfileOperations,
  ) {}

  createIsdp(request: es3.CreateIsdpRequest, context: CallContext): Promise<{ isdpAid: string }> {
    return this.cards.exclusive(request.eid, async () => {
      const record = await this.profiles.requireEuicc(request.eid); // 1
      if (await this.registry.findByIccid(request.iccid)) throw new StatusError(STATUS_CODE.ICCID_IN_USE, request.iccid); // 2
      if (request.requiredMemory > MAX_ISDP_QUOTA) throw new ContractError.InvalidParameter('requiredMemory', `at most ${MAX_ISDP_QUOTA} bytes`);
      if (request.requiredMemory > record.remainingMemory) throw new StatusError(SMSR_STATUS.INSUFFICIENT_MEMORY, request.eid); // 3
      const used = new Set(record.profiles.map((profile) => profile.isdpAid.toUpperCase()));
      let index = 1;
      let allocated: string | undefined;
      for (let attempt = 0; allocated === undefined; attempt += 1) {
        while (used.has(isdpAid(index))) index += 1; // 4
        const candidate = isdpAid(index);
        try {
          await this.cards.checked(request.eid, [{ name: 'CreateISDP', apdu: createIsdpApdu(candidate, { quota: request.requiredMemory }) }], context.deadline); // 5
          allocated = candidate;
        } catch (error) {
          // 6A80: the card already holds this AID (unknown to the registry): take the next one.
          if (!(error instanceof CardStatusError && error.sw === SW.INCORRECT_DATA) || attempt + 1 >= AID_ATTEMPTS) throw error;
          used.add(candidate);
        }
      }
      const profile: ProfileRecord = {
        eid: request.eid,
        iccid: request.iccid,
        isdpAid: allocated,
        mnoId: request.mnoId,
        smdpId: context.requester,
        state: 'Created',
        fallback: false,
        pol2: [],
        allocatedMemory: request.requiredMemory,
      };
      const remaining = record.remainingMemory - request.requiredMemory;
      await this.registry.transaction(async (tx) => {
        await tx.saveProfile(profile); // 6
        await tx.updateEuicc(request.eid, { remainingMemory: remaining, availableMemoryForProfiles: remaining });
      });
      return { isdpAid: allocated };
    }, context);
  }

  async sendData(request: es3.SendDataRequest, context: CallContext): Promise<{ euiccResponseData: string }> {
    const record = await this.profiles.requireEuicc(request.eid);
    const target = record.profiles.find((profile) => profile.isdpAid === request.sdAid.toUpperCase() && profile.smdpId === context.requester);
    if (!target) throw new StatusError(SMSR_STATUS.ISDP_UNKNOWN, request.sdAid);
    let commands: CommandApdu[];
    try {
      commands = decodeCommandScript(Buffer.from(request.data, 'hex')).commands.map((command) => decodeCommandApdu(command));
    } catch (cause) {
      throw new ContractError.InvalidParameter('data', `a TS 102 226 expanded command script (${(cause as { code?: string }).code ?? 'malformed'})`);
    }
    requireEs8Script(target.isdpAid, commands); // only ES8 for this ISD-P runs in the SM-SR's ISD-R session
    const responses = await this.cards.exclusive(request.eid, () => this.cards.raw(request.eid, commands, context.deadline), context);
    const script = encodeResponseScript({ executed: responses.length, responses: responses.map((response) => encodeResponseApdu(response)) });
    return { euiccResponseData: script.toString('hex').toUpperCase() };
  }

  profileDownloadCompleted(request: es3.ProfileDownloadCompletedRequest, context: CallContext): Promise<Record<string, never>> {
    return this.cards.exclusive(request.eid, async () => {
      const record = await this.profiles.requireEuicc(request.eid);
      const profile = this.profiles.requireOwned(record, request.iccid, { role: 'smdp', id: context.requester });
      if (profile.state !== 'Created') throw new StatusError(STATUS_CODE.ICCID_WRONG_STATE, request.iccid);
      const completed: ProfileRecord = { ...profile, state: 'Disabled', pol2: request.pol2 ?? profile.pol2 };
      if (request.profileType !== undefined) completed.profileType = request.profileType;
      if (request.subscriptionAddress !== undefined) completed.subscriptionAddress = request.subscriptionAddress;
      await this.registry.transaction((tx) => tx.saveProfile(completed));
      return {};
    }, context);
  }
}
