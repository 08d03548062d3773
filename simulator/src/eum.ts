/**
 * The EUM side of ES1 (SGP.02 §5.5.1 RegisterEIS [U exact numbering]; EIS of Annex E): after
 * manufacturing a card, the eUICC Manufacturer describes it in an EIS, signs the EumSignedInfo part with
 * its key (see `signEis` in @rsp/contracts: RFC 8785 canonical JSON instead of XML-DSig) and hands it,
 * with the ISD-R's initial key set, to the SM-SR.
 *
 * What goes in, read from the manufactured {@link CardState}:
 * - EumSignedInfo: EID, EUM id, production date, platform, ISD-P load file / module AIDs (Annex H),
 *   the ECASD (AID + CERT.ECASD.ECKA as manufactured), capabilities;
 * - the SM-SR part: remaining memory, the ISD-R AID, and the installed profiles — on a fresh M2M card
 *   the bootstrap profile, ENABLED with the fall-back attribute (SGP.02 §2.4.x [U]), owned by
 *   `bootstrapOwner` (default mnoId/smdpId `bootstrap`: it was not downloaded by any SM-DP).
 *
 * The ISD-R key set itself is not part of the EIS (SGP.02 keeps key sets out of it); the demo EUM
 * manufactures every card with `defaultIsdRKeySet(eid)` and the SM-SR takes that as the initial set.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { RspError } from '@rsp/errors';
import { ISDP_LIFE_CYCLE, freeMemory, type CardState, type IsdpState } from '@rsp/card';
import { AID } from '@rsp/offcard';
import { signEis, type Eis, type EisProfile, type EuiccCapabilities, type PolicyRule, type ProfileState, type UnsignedEis } from '@rsp/contracts';

/** Owner ids recorded for a profile the EUM installed at manufacture (no SM-DP ever downloaded it). */
export const BOOTSTRAP_OWNER = { mnoId: 'bootstrap', smdpId: 'bootstrap' } as const;

export interface BuildEisOptions {
  /** The EUM's identifier (e.g. `eum.demo`); becomes EumSignedInfo.eumId. */
  eumId: string;
  /** The SM-SR the card is registered with (EIS smsrId). */
  smsrId: string;
  /** The EUM's signing key (the key of the EUM certificate chained to the CI). */
  eumPrivateKey: KeyObject;
  /** Production date (ISO 8601); default the current time, whole seconds. */
  productionDate?: string;
  platformType?: string;
  platformVersion?: string;
  capabilities?: EuiccCapabilities;
  /** Owner of profiles the state does not attribute (the bootstrap profile). Default {@link BOOTSTRAP_OWNER}. */
  bootstrapOwner?: { mnoId: string; smdpId: string };
  /** POL2 of the bootstrap profile (default none). */
  bootstrapPol2?: PolicyRule[];
  /** Profile type recorded for the bootstrap profile (default `bootstrap`). */
  bootstrapProfileType?: string;
}

/** Default platform description of the simulated eUICC (free text in SGP.02). */
export const SIMULATED_PLATFORM = { platformType: 'rsp-sim-euicc', platformVersion: '1.0' } as const;

/** GP life cycle of an ISD-P → EIS profile state (SGP.02 §2.2.1.2 / Annex E). */
export function profileStateOf(lifeCycle: number): ProfileState {
  if (lifeCycle === ISDP_LIFE_CYCLE.ENABLED) return 'Enabled';
  if (lifeCycle === ISDP_LIFE_CYCLE.DISABLED) return 'Disabled';
  return 'Created';
}

function profileOf(isdp: IsdpState, options: BuildEisOptions): EisProfile | undefined {
  if (!isdp.profile) return undefined; // an empty ISD-P (download in progress) has no ICCID to report
  const owner = options.bootstrapOwner ?? BOOTSTRAP_OWNER;
  const attributed = isdp.smdpId !== undefined && isdp.mnoId !== undefined;
  const profile: EisProfile = {
    iccid: isdp.profile.iccid,
    isdpAid: isdp.aid,
    mnoId: isdp.mnoId ?? owner.mnoId,
    smdpId: isdp.smdpId ?? owner.smdpId,
    state: profileStateOf(isdp.lifeCycle),
    fallbackAttribute: isdp.fallback,
    allocatedMemory: isdp.memoryQuota,
    subscriptionAddress: { imsi: isdp.profile.imsi },
    pol2: attributed ? [] : [...(options.bootstrapPol2 ?? [])],
  };
  const profileType = isdp.profile.profileType ?? (attributed ? undefined : (options.bootstrapProfileType ?? 'bootstrap'));
  if (profileType !== undefined) profile.profileType = profileType;
  return profile;
}

/** The EIS of a manufactured card, unsigned (exposed for tests that tamper with it). */
export function buildUnsignedEis(state: CardState, options: BuildEisOptions): UnsignedEis {
  const free = freeMemory(state);
  return {
    eid: state.eid,
    eumId: options.eumId,
    productionDate: options.productionDate ?? new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
    platformType: options.platformType ?? SIMULATED_PLATFORM.platformType,
    platformVersion: options.platformVersion ?? SIMULATED_PLATFORM.platformVersion,
    isdPLoadFileAid: AID.ISD_P_LOAD_FILE,
    isdPModuleAid: AID.ISD_P_MODULE,
    ecasd: { aid: AID.ECASD, certificate: state.ecasd.certificate.toUpperCase() },
    capabilities: options.capabilities ?? { transports: ['MQTT'], rspVersion: 'SGP.02' },
    remainingMemory: free,
    availableMemoryForProfiles: free,
    smsrId: options.smsrId,
    isdR: { aid: AID.ISD_R },
    profiles: state.isdps.flatMap((isdp) => profileOf(isdp, options) ?? []),
  };
}

/** ES1: the signed EIS of a manufactured card, ready for `RegisterEIS`. */
export function buildSignedEis(state: CardState, options: BuildEisOptions): Eis {
  return signEis(buildUnsignedEis(state, options), options.eumPrivateKey);
}

/** Where and as whom an EUM registers its cards (ES1 over the SM-SR's HTTP binding). */
export interface Es1Target {
  smsrUrl: string;
  smsrId: string;
  eumId: string;
  eumPrivateKey: KeyObject;
}

/** A RegisterEIS the SM-SR refused: carries its SGP.02 status, named by the card's EID. */
export class RegisterEisRefused extends RspError {
  static override readonly code = 'ERR_SIM_REGISTER_EIS_REFUSED';
}

/**
 * ES1.RegisterEIS of one manufactured card (SGP.02 §5.5.1): the signed EIS, POSTed to
 * `{smsrUrl}/gsma/es1/registerEIS`. 'known' when the SM-SR already has it (8.1.1/3.3: a restart with
 * persisted cards), so a registration can be repeated safely.
 */
export async function registerCard(target: Es1Target, state: CardState): Promise<'registered' | 'known'> {
  const eis = buildSignedEis(state, { eumId: target.eumId, smsrId: target.smsrId, eumPrivateKey: target.eumPrivateKey });
  const response = await fetch(`${target.smsrUrl.replace(/\/+$/, '')}/gsma/es1/registerEIS`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      header: { functionRequesterIdentifier: target.eumId, functionCallIdentifier: `register-${state.eid}-${randomBytes(4).toString('hex')}` },
      eis,
    }),
  });
  const body = (await response.json().catch(() => ({}))) as {
    header?: { functionExecutionStatus?: { status?: string; statusCodeData?: { subjectCode?: string; reasonCode?: string; message?: string } } };
  };
  const status = body.header?.functionExecutionStatus;
  if (status?.status?.startsWith('Executed')) return 'registered';
  if (status?.statusCodeData?.reasonCode === '3.3') return 'known';
  const code = status?.statusCodeData;
  throw new RegisterEisRefused(
    `RegisterEIS of ${state.eid} refused: ${status?.status ?? `HTTP ${response.status}`}${code ? ` ${code.subjectCode}/${code.reasonCode} ${code.message ?? ''}` : ''}`.trim(),
  );
}
