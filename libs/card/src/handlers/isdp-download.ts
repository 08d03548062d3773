/**
 * ES8.DownloadAndInstallation on the card (SGP.02 §3.1.3, §4.1.3.3): the SM-DP opens SCP03t with the
 * ISD-P key set from Scenario#3 and sends the SAIP profile package in '86' segments; the ISD-P installs
 * it when the package is complete and answers the SAIP EUICCResponse in the last '86' response.
 *
 * ```
 * 80 E2 91 00  84 L KVN‖KID‖host challenge        → 84 L <INITIALIZE UPDATE response>
 * 80 E2 91 00  85 L level‖host cryptogram‖C-MAC   → 85 00
 * 80 E2 91 00  86 L AES-CBC(segment)‖C-MAC        → 86 00, or on the last one 86 L R-ENC(EUICCResponse)‖R-MAC
 *                                                     any refusal → 9Fxx L reason (error TLV, SW 9000)
 * ```
 * [U] Carrying each TLV in a STORE DATA to the personalization target is this project's choice (see
 * `ES8_HEADER.STORE_DATA_SCP03T`): SGP.02 sends the TLVs in the SCP81 session targeted at the ISD-P.
 *
 * Atomicity: segments collect in volatile memory only; the profile is installed in ONE draft-state
 * commit (ISD-P → DISABLED with its profile). A power loss anywhere drops the buffer, so the card holds
 * either no profile or the whole one — never a half one, never an enabled one.
 */
import { Scp03tReceiver, scp03tErrorTag, Scp03tErrorReason, Scp03tTag } from '@rsp/crypto';
import { validateIccid } from '@rsp/pki';
import { encodeEuiccResponse, errorResponse, PE_STATUS, successResponse, summariseProfile, type EuiccResponse } from '@rsp/saip';
import { decodeTlv, encodeTlv, tlvEnd } from '@rsp/tlv';
import type { CardContext, CommandHandler, DownloadBuffer, IsdpSession } from '../context';
import { ok } from '../dispatcher';
import { CardError } from '@rsp/offcard';
import { ES8_HEADER, hasHeader } from '@rsp/offcard';
import { ISDP_LIFE_CYCLE, type IsdpState } from '../model';
import { personalizationTarget } from './isdp-personalization';
import { POL1_ALL_RULES } from '../profile-ops';
import { staticKeys } from '../key-objects';

/** ProfileElement `end` (PE_Definitions: ProfileElement CHOICE [10] → tag AA): the package is complete. */
const PE_END_TAG = 0xaa;
/** SQN_MS of a fresh USIM (TS 33.102 Annex C: starts at zero). */
const INITIAL_SQN_MS = '000000000000';

type PackageProgress = { kind: 'incomplete' } | { kind: 'complete' } | { kind: 'malformed'; error: unknown };

/** `download` with `segment` appended (a new buffer on the first segment); the buffer doubles when full. */
function appendSegment(download: DownloadBuffer | undefined, segment: Buffer): DownloadBuffer {
  const current = download ?? { bytes: Buffer.alloc(0), length: 0, walked: 0, lastTag: -1 };
  const needed = current.length + segment.length;
  if (needed > current.bytes.length) {
    const grown = Buffer.alloc(Math.max(needed, 2 * current.bytes.length, 1024));
    current.bytes.copy(grown, 0, 0, current.length);
    current.bytes = grown;
  }
  segment.copy(current.bytes, current.length);
  current.length = needed;
  return current;
}

/**
 * Is the package so far a whole sequence of ProfileElement TLVs ending with `end`? Walks on from where
 * the last segment's walk stopped: a TLV seen whole stays whole as bytes are appended after it.
 */
function packageProgress(download: DownloadBuffer): PackageProgress {
  const received = download.bytes.subarray(0, download.length);
  try {
    while (download.walked < received.length) {
      const end = tlvEnd(received, download.walked); // no error thrown per segment while a TLV is still arriving
      if (end === undefined || end > received.length) return { kind: 'incomplete' };
      const { tlv, next } = decodeTlv(received, download.walked);
      download.lastTag = tlv.tag;
      download.walked = next;
    }
  } catch (error) {
    return { kind: 'malformed', error };
  }
  return download.lastTag === PE_END_TAG ? { kind: 'complete' } : { kind: 'incomplete' };
}

function aborted(status: number, statusMessage: string): EuiccResponse {
  return { peStatus: [{ status }], profileInstallationAborted: true, statusMessage };
}

/**
 * Decodes and checks the complete package, then installs it on the draft ISD-P. Every refusal is an
 * EUICCResponse with `profileInstallationAborted` and leaves the ISD-P as it was (PERSONALIZED).
 */
function install(ctx: CardContext, isdp: IsdpState, profilePackage: Buffer): EuiccResponse {
  let summary;
  try {
    summary = summariseProfile(profilePackage);
    validateIccid(summary.iccid);
  } catch (error) {
    return errorResponse(error);
  }
  if (summary.algorithm !== 'milenage') return aborted(PE_STATUS.featureNotSupported, 'only Milenage is supported');
  if (ctx.state.isdps.some((other) => other.aid !== isdp.aid && other.profile?.iccid === summary.iccid)) {
    return aborted(PE_STATUS.invalidParameter, 'ICCID already installed');
  }
  // POL1 travels in the profile (SAIP ProfileHeader `pol`; SGP.02 policy rules: it lives in the profile and
  // the ISD-R enforces it); a bit this card does not know is refused, never dropped.
  const pol1 = summary.pol1 ?? 0;
  if ((pol1 & ~POL1_ALL_RULES) !== 0) return aborted(PE_STATUS.badValues, `unknown POL1 bits ${pol1.toString(16).padStart(2, '0')}`);
  // The package must fit in the non-volatile memory granted to the ISD-P at CreateISDP (SGP.02 §3.1.1).
  if (profilePackage.length > isdp.memoryQuota || ctx.env.faults.memoryFull?.()) {
    return aborted(PE_STATUS.notEnoughMemory, 'not enough memory');
  }
  ctx.step('download:install');
  isdp.profile = {
    iccid: summary.iccid,
    imsi: summary.imsi,
    ...(summary.profileType === undefined ? {} : { profileType: summary.profileType }),
    ki: summary.ki.toLowerCase(),
    opc: summary.opc.toLowerCase(),
    sqnMs: INITIAL_SQN_MS,
    sizeBytes: profilePackage.length,
    package: profilePackage.toString('hex'),
  };
  isdp.pol1 = pol1;
  isdp.lifeCycle = ISDP_LIFE_CYCLE.DISABLED;
  ctx.emit({ type: 'profile-installed', aid: isdp.aid, iccid: summary.iccid });
  return successResponse();
}

/** A new SCP03t receiver from the ISD-P key set, continuing its persisted sequence counter. */
function newReceiver(isdp: IsdpState): Scp03tReceiver {
  const keySet = isdp.keySet as NonNullable<IsdpState['keySet']>;
  return new Scp03tReceiver({
    keys: staticKeys(keySet),
    kvn: keySet.kvn,
    sdAid: Buffer.from(isdp.aid, 'hex'),
    sequenceCounter: isdp.scp03tCounter,
  });
}

/** One verified, decrypted segment: buffer it; install when the package is complete. */
function receiveSegment(ctx: CardContext, isdp: IsdpState, session: IsdpSession, receiver: Scp03tReceiver, data: Buffer): Buffer {
  ctx.step('download:segment');
  const download = appendSegment(session.download, data);
  session.download = undefined; // kept again below only while the package is incomplete
  let outcome: EuiccResponse | undefined;
  if (download.length > isdp.memoryQuota) {
    outcome = aborted(PE_STATUS.notEnoughMemory, 'not enough memory'); // can never fit: stop buffering
  } else {
    const progress = packageProgress(download);
    if (progress.kind === 'malformed') outcome = errorResponse(progress.error);
    if (progress.kind === 'complete') outcome = install(ctx, isdp, download.bytes.subarray(0, download.length));
  }
  if (outcome === undefined) {
    session.download = download;
    return receiver.respond();
  }
  return receiver.respond(encodeEuiccResponse(outcome));
}

/** STORE DATA carrying one SCP03t TLV to the personalization target (see the module comment). */
export const storeDataScp03t: CommandHandler = {
  name: 'ISD-P STORE DATA SCP03t TLV (ES8 DownloadAndInstallation)',
  spec: 'SGP.02 §3.1.3, §4.1.3.3; SCP03t §2.5',
  app: 'isd-r',
  secured: true,
  matches: (apdu) => hasHeader(apdu, ES8_HEADER.STORE_DATA_SCP03T),
  handle(ctx, apdu) {
    const isdp = personalizationTarget(ctx);
    if (isdp.lifeCycle !== ISDP_LIFE_CYCLE.PERSONALIZED || !isdp.keySet) {
      throw new CardError.ConditionsNotSatisfied(`ISD-P ${isdp.aid} is not PERSONALIZED: no SCP03t key set or already installed`);
    }
    const session = ctx.volatile.isdpSessions.get(isdp.aid) ?? {};
    ctx.volatile.isdpSessions.set(isdp.aid, session);
    const isInitializeUpdate = apdu.data[0] === Scp03tTag.INITIALIZE_UPDATE;
    const receiver = isInitializeUpdate ? newReceiver(isdp) : session.scp03t;
    if (!receiver) {
      // No SCP03t session: structure error on the received tag (SGP.22-style reason, [U] for SGP.02).
      const tag = apdu.data[0] ?? Scp03tTag.DATA_SEGMENT;
      return ok(encodeTlv(scp03tErrorTag(tag), Buffer.of(Scp03tErrorReason.STRUCTURE)));
    }
    const receipt = receiver.receive(apdu.data);
    switch (receipt.kind) {
      case 'initialized':
        isdp.scp03tCounter = receiver.sequenceCounter; // persisted: a card challenge is never reused
        session.scp03t = receiver;
        session.download = undefined; // a new session starts a new download
        return ok(receipt.response);
      case 'authenticated':
        return ok(receipt.response);
      case 'segment':
        return ok(receiveSegment(ctx, isdp, session, receiver, receipt.data));
      case 'refused':
        // A tampered, replayed or out-of-order TLV closes the channel and discards the partial package.
        session.scp03t = undefined;
        session.download = undefined;
        return ok(receipt.response);
    }
  },
};

export const ISDP_DOWNLOAD_COMMANDS: CommandHandler[] = [storeDataScp03t];
