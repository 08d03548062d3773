/**
 * ES2.DownloadProfile as the persisted state machine `es2.DownloadProfile` (docs/services.md "Download
 * flow"; SGP.02 §3.1). Each step's output is persisted before the next runs; ISD-P keys are sealed
 * with SecretBox (AAD = transaction id). A failure after create-isdp runs ES3.DeleteISDP so the eUICC
 * is left as it was, and the subscription returns to the pool.
 *
 * Crash recovery (docs/services.md "Crash recovery"): after a `kill -9` the SM-DP resumes the flow at the
 * last persisted step; `isRepeat(info)` is true for the steps that may have run before the crash (that
 * one, and up to the next checkpoint: reserve-profile, get-eis and verify-ecasd ride on create-isdp's
 * write), which then
 * check their own side effects first:
 * - reserve-profile: idempotent (the inventory finds the reservation by transaction id);
 * - get-eis, verify-ecasd: read-only;
 * - create-isdp: ES3.GetEIS first; a Created ISD-P for our reserved ICCID is adopted (the ICCID is
 *   reserved to this transaction, so it is ours), else CreateISDP as usual;
 * - key-establishment, download: the card state is unknown (keys half set, profile half or fully
 *   installed, and an ISD-P cannot be re-keyed once PERSONALIZED, GP Amd E): delete the ISD-P and start
 *   again from create-isdp inside the step ("rebuild"), which always converges on one clean ISD-P;
 * - download-completed, enable: ES3.GetEIS first; already Disabled / Enabled = done.
 * The MNO hears of the enable from the SM-SR's ES3.HandleProfileEnabledNotification, forwarded on ES2.
 */
import type { KeyObject } from 'node:crypto';
import { buildDownloadCommands, buildEstablishKeySetStep1, buildEstablishKeySetStep2, parseEstablishKeySetStep1Response, type IsdpKeySet } from '@rsp/offcard';
import { StatusError, toExecutionStatus, type FunctionExecutionStatus, type EisProfile } from '@rsp/contracts';
import { CryptoError } from '@rsp/crypto';
import { isRspError } from '@rsp/errors';
import type { FlowContext, FlowDefinition, FlowStep, SecretBox, StepInfo } from '@rsp/persistence';
import { validateEcasdChain } from '@rsp/pki';
import { encodeEuiccResponse, personaliseProfile, type EuiccResponse } from '@rsp/saip';
import type { CommandApdu } from '@rsp/tlv';
import { commandScriptHex, responseData } from './card-script';
import type { Es3Function, Es3RequestMap } from './es3-client';
import type { Es3Gateway } from './es3-gateway';
import type { Inventory } from './inventory';
import type { Subscription } from './inventory-store';
import { SMDP_STATUS } from './status-codes';

export const DOWNLOAD_FLOW = 'es2.DownloadProfile';

/** ISD-P memory asked of the SM-SR (CreateISDP requiredMemory) [U: no sizing rule in SGP.02]. */
export const REQUIRED_MEMORY_BYTES = 16 * 1024;

/** The persisted context: the request, then each step's output. Secrets only sealed. */
export interface DownloadContext extends FlowContext {
  mnoId: string;
  eid: string;
  smsrId: string;
  requestedIccid?: string;
  requestedProfileType?: string;
  enableProfile: boolean;
  /** reserve-profile */
  iccid?: string;
  profileType?: string;
  /** reserve-profile: the subscription's IMSI, for ProfileDownloadCompleted (absent in flows persisted before it was kept). */
  imsi?: string;
  /** get-eis: CERT.ECASD.ECKA (hex of the 7F21 TLV). */
  ecasdCertificate?: string;
  /** create-isdp */
  isdpAid?: string;
  /** key-establishment: the ISD-P key set, SecretBox-sealed. @secret */
  isdpKeysSealed?: string;
  /** download: the eUICC's EUICCResponse (hex DER). */
  euiccResponseData?: string;
  /** ES2 functionCallIdentifier and request hash: a resumed flow stores its ES2 outcome for repeats of the call. */
  replay?: { callId: string; requestHash: string };
  /** Persisted with the failed row (StateMachine onFailure): the SGP.02 status and the compensation hint. */
  failure?: { status: FunctionExecutionStatus; isdpUncertain: boolean };
  /** Set once the compensation of a failed / expired flow ran ('done') or could not ('isdp-kept'). */
  compensation?: 'done' | 'isdp-kept';
  /** How many times an 'isdp-kept' compensation was run again (the outbox's retries). */
  compensationRetries?: number;
}

export interface DownloadDependencies {
  inventory: Inventory;
  es3: Es3Gateway;
  secrets: SecretBox;
  ciCertificate: Buffer;
  eumCertificates: readonly Buffer[];
  smdpCertificate: Buffer;
  smdpPrivateKey: KeyObject;
  now: () => Date;
  /** The transaction's deadline (validityPeriod), looked up by the ES3 calls. */
  deadlineOf: (transactionId: string) => Date | null;
  /** True for the one run of the step a resumed flow was interrupted in (its side effects are unknown). */
  isRepeat: (info: StepInfo) => boolean;
}

type Step = FlowStep<DownloadContext>;

/** The sealed form of an ISD-P key set (hex keys inside the SecretBox ciphertext). */
function sealKeys(secrets: SecretBox, keySet: IsdpKeySet, transactionId: string): string {
  const json = JSON.stringify({
    kvn: keySet.kvn,
    keyId: keySet.keyId,
    enc: Buffer.from(keySet.keys.enc).toString('hex'),
    mac: Buffer.from(keySet.keys.mac).toString('hex'),
    dek: Buffer.from(keySet.keys.dek).toString('hex'),
  });
  return secrets.seal(json, `isdp-keys:${transactionId}`);
}

function openKeys(secrets: SecretBox, sealed: string, transactionId: string): IsdpKeySet {
  const parsed = JSON.parse(secrets.openString(sealed, `isdp-keys:${transactionId}`)) as Record<string, string | number>;
  const key = (name: string) => Buffer.from(String(parsed[name]), 'hex');
  return { kvn: Number(parsed.kvn), keyId: Number(parsed.keyId), keys: { enc: key('enc'), mac: key('mac'), dek: key('dek') } };
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new StatusError(SMDP_STATUS.EXECUTION_ERROR, what);
  return value;
}

/** Reserved rows kept for their download step: far more than the downloads one process runs at once. */
const RESERVED_ROWS_KEPT = 10_000;

/** Builds the flow definition over its dependencies. */
export function downloadFlow(deps: DownloadDependencies): FlowDefinition<DownloadContext> {
  let calls = 0;
  /**
   * The row reserve-profile claimed (its UPDATE … RETURNING), handed to the download step of the same
   * transaction once, so that step does not SELECT it again. Memory only: a resumed flow, or a process
   * that never had it, reads the row. Its fields do not change while it is reserved to the transaction.
   */
  const reservedRows = new Map<string, Subscription>();
  const takeReserved = (transactionId: string, iccid: string): Subscription | undefined => {
    const row = reservedRows.get(transactionId);
    reservedRows.delete(transactionId);
    return row?.iccid === iccid ? row : undefined;
  };
  /** ES3 call with a per-attempt call id: a resumed flow must not be answered from the SM-SR's replay cache. */
  const es3 = <F extends Es3Function>(fn: F, ctx: DownloadContext, info: StepInfo, input: Omit<Es3RequestMap[F], 'header'>) =>
    deps.es3.call(fn, ctx.smsrId, input, {
      callId: `${info.transactionId}:${info.step}:${info.attempt}:${++calls}`,
      deadline: deps.deadlineOf(info.transactionId),
    });

  /** One SendData to the ISD-P carrying `commands` as an AA script; the response data per command. */
  const sendScript = async (ctx: DownloadContext, info: StepInfo, commands: readonly CommandApdu[], what: string): Promise<Buffer[]> => {
    const isdpAid = need(ctx.isdpAid, 'isdpAid');
    const response = await es3('SendData', ctx, info, { eid: ctx.eid, sdAid: isdpAid, data: commandScriptHex(commands), moreToDo: true });
    return responseData(response.euiccResponseData, commands.length, what);
  };
  const last = (data: Buffer[]): Buffer => data[data.length - 1] ?? Buffer.alloc(0);

  /** The SM-SR's record of our ICCID on the card (ES3.GetEIS), for a repeated step to check what is done. */
  const profileOnCard = async (ctx: DownloadContext, info: StepInfo): Promise<EisProfile | undefined> => {
    const { eis } = await es3('GetEIS', ctx, info, { eid: ctx.eid });
    return eis?.profiles.find((profile) => profile.iccid === ctx.iccid);
  };

  const createIsdp = async (ctx: DownloadContext, info: StepInfo): Promise<string> => {
    const response = await es3('CreateISDP', ctx, info, {
      eid: ctx.eid,
      iccid: need(ctx.iccid, 'iccid'),
      mnoId: ctx.mnoId,
      requiredMemory: REQUIRED_MEMORY_BYTES,
      moreToDo: true,
    });
    return need(response.isdpAid, 'isdpAid').toUpperCase();
  };

  /**
   * Crash recovery of key-establishment / download: the ISD-P is in an unknown state (half keyed, half
   * loaded) and cannot be re-keyed, so it is deleted (ES3.DeleteISDP; "unknown ICCID" = already gone)
   * and created again, empty: the step then runs from scratch on the new ISD-P.
   */
  const rebuildIsdp = async (ctx: DownloadContext, info: StepInfo): Promise<string> => {
    try {
      await es3('DeleteISDP', ctx, info, { eid: ctx.eid, iccid: need(ctx.iccid, 'iccid') });
    } catch (error) {
      if (!isIccidUnknown(error)) throw error;
    }
    return createIsdp(ctx, info);
  };

  const establishKeys = async (ctx: DownloadContext, info: StepInfo): Promise<string> => {
    const isdpAid = need(ctx.isdpAid, 'isdpAid');
    const step1 = buildEstablishKeySetStep1({ isdpAid, smdpCertificate: deps.smdpCertificate });
    const challenge = parseEstablishKeySetStep1Response(last(await sendScript(ctx, info, step1, 'STORE DATA 3A01 (CERT.DP.ECDSA)')));
    const step2 = buildEstablishKeySetStep2({
      challenge,
      smdpPrivateKey: deps.smdpPrivateKey,
      ecasdCertificate: Buffer.from(need(ctx.ecasdCertificate, 'ecasdCertificate'), 'hex'),
      isdpAid,
    });
    // finish() throws ERR_CRYPTO_RECEIPT_MISMATCH (→ 8.4 / 6.1) when the card derived other keys.
    const keySet = step2.finish(last(await sendScript(ctx, info, step2.commands, 'STORE DATA 3A02 (key establishment)')));
    return sealKeys(deps.secrets, keySet, info.transactionId);
  };

  const downloadProfile = async (ctx: DownloadContext, info: StepInfo): Promise<string> => {
    const iccid = need(ctx.iccid, 'iccid');
    const subscription = takeReserved(info.transactionId, iccid) ?? (await deps.inventory.findSubscription(iccid));
    if (!subscription) throw new StatusError(SMDP_STATUS.ICCID_UNKNOWN, iccid);
    const type = await deps.inventory.profileType(ctx.mnoId, subscription.profileType);
    const keySet = openKeys(deps.secrets, need(ctx.isdpKeysSealed, 'isdpKeys'), info.transactionId);
    const { ki, opc } = deps.inventory.openCredentials(subscription);
    const profilePackage = personaliseProfile(type.template, { iccid, imsi: subscription.imsi, ki, opc, profileType: type.name });
    const options = { isdpAid: need(ctx.isdpAid, 'isdpAid'), keys: keySet.keys, kvn: keySet.kvn, keyId: keySet.keyId, package: profilePackage };
    // One SendData in scripting mode (GP Amd D §6.2.2.1): the key set is fresh from key-establishment (a
    // repeated step rebuilds the ISD-P), so its SCP03t counter is known. A card that counts otherwise gets
    // the interactive handshake, three SendData.
    const scripted = buildDownloadCommands(options);
    let result: EuiccResponse | undefined;
    try {
      result = scripted.scriptResult(await sendScript(ctx, info, scripted.script(), 'SCP03t download (scripting mode)'));
    } catch (error) {
      if (!isRspError(error, CryptoError.CounterMismatch.code)) throw error;
      const download = buildDownloadCommands(options);
      const afterInitialize = last(await sendScript(ctx, info, download.initializeUpdate(), 'SCP03t INITIALIZE UPDATE'));
      const afterAuthenticate = last(await sendScript(ctx, info, download.externalAuthenticate(afterInitialize), 'SCP03t EXTERNAL AUTHENTICATE'));
      result = download.result(await sendScript(ctx, info, download.segments(afterAuthenticate), 'SCP03t profile segments'));
    }
    if (!result) throw new StatusError(SMDP_STATUS.EUICC_RESPONSE_MISSING, ctx.eid);
    if (result.profileInstallationAborted || result.peStatus.some((entry) => entry.status !== 0)) {
      throw new StatusError(SMDP_STATUS.PROFILE_INSTALLATION_FAILED, iccid);
    }
    return encodeEuiccResponse(result).toString('hex').toUpperCase();
  };

  const steps: Step[] = [
    {
      name: 'reserve-profile',
      spec: 'SGP.02 §3.1.1 (profile reservation)',
      checkpoint: false, // written with create-isdp's output; a repeat finds its own reservation
      async run(ctx, info) {
        // Repeat-safe: reserve() returns this transaction's reservation when it already holds one.
        const wanted = ctx.requestedIccid !== undefined ? { iccid: ctx.requestedIccid } : { profileType: ctx.requestedProfileType ?? '' };
        const subscription = await deps.inventory.reserve(ctx.mnoId, wanted, ctx.eid, info.transactionId, { firstRun: info.attempt === 1 });
        reservedRows.set(info.transactionId, subscription);
        // Bounded all the same (onFailure takes a failed flow's row; a crash of the step leaves it): oldest first.
        if (reservedRows.size > RESERVED_ROWS_KEPT) reservedRows.delete(reservedRows.keys().next().value as string);
        return { iccid: subscription.iccid, profileType: subscription.profileType, imsi: subscription.imsi };
      },
    },
    {
      name: 'get-eis',
      spec: 'SGP.02 §5.4 ES3.GetEIS',
      checkpoint: false, // a read: written with create-isdp's output, run again after a crash
      async run(ctx, info) {
        const { eis } = await es3('GetEIS', ctx, info, { eid: ctx.eid });
        if (!eis || eis.eid !== ctx.eid || !eis.ecasd?.certificate) throw new StatusError(SMDP_STATUS.EIS_INVALID, ctx.eid);
        return { ecasdCertificate: eis.ecasd.certificate };
      },
    },
    {
      name: 'verify-ecasd',
      spec: 'SGP.02 §2.3, §3.1.1: CERT.ECASD.ECKA → EUM → CI, EID within permittedEins',
      checkpoint: false, // a check
      run(ctx) {
        const ecasdCert = Buffer.from(need(ctx.ecasdCertificate, 'ecasdCertificate'), 'hex');
        // Made only when no EUM certificate fits: an error captures its stack (~80 µs on this hot path).
        let failure: unknown;
        for (const eumDer of deps.eumCertificates) {
          try {
            validateEcasdChain({ ecasdCert, eumDer, ciDer: deps.ciCertificate, now: deps.now(), eid: ctx.eid });
            return;
          } catch (error) {
            failure = error; // PkiError → 8.5.2 / 6.3 (libs/contracts ERROR_STATUS_MAP)
          }
        }
        throw failure ?? new StatusError(SMDP_STATUS.ECASD_CERTIFICATE_INVALID, ctx.eid);
      },
    },
    {
      name: 'create-isdp',
      spec: 'SGP.02 §3.1.1, §5.4 ES3.CreateISDP',
      async run(ctx, info) {
        if (deps.isRepeat(info)) {
          // The ICCID is reserved to this transaction: a Created ISD-P holding it is the one we asked for.
          const existing = await profileOnCard(ctx, info);
          if (existing?.state === 'Created' && existing.mnoId === ctx.mnoId) return { isdpAid: existing.isdpAid.toUpperCase() };
        }
        return { isdpAid: await createIsdp(ctx, info) };
      },
    },
    {
      name: 'key-establishment',
      spec: 'SGP.02 §3.1.2 EstablishISDPKeySet, GP Amd E Scenario#3 (receipt verified)',
      async run(ctx, info) {
        if (!deps.isRepeat(info)) return { isdpKeysSealed: await establishKeys(ctx, info) };
        const rebuilt = { ...ctx, isdpAid: await rebuildIsdp(ctx, info) };
        return { isdpAid: rebuilt.isdpAid, isdpKeysSealed: await establishKeys(rebuilt, info) };
      },
    },
    {
      name: 'download',
      spec: 'SGP.02 §3.1.3 DownloadAndInstallation, GP Amd D SCP03t',
      async run(ctx, info) {
        if (!deps.isRepeat(info)) return { euiccResponseData: await downloadProfile(ctx, info) };
        const rebuilt: DownloadContext = { ...ctx, isdpAid: await rebuildIsdp(ctx, info) };
        rebuilt.isdpKeysSealed = await establishKeys(rebuilt, info);
        return { isdpAid: rebuilt.isdpAid, isdpKeysSealed: rebuilt.isdpKeysSealed, euiccResponseData: await downloadProfile(rebuilt, info) };
      },
    },
    {
      name: 'download-completed',
      spec: 'SGP.02 §3.1.1 ES3.ProfileDownloadCompleted with POL2',
      async run(ctx, info) {
        const iccid = need(ctx.iccid, 'iccid');
        const done = deps.isRepeat(info) && (await profileOnCard(ctx, info))?.state !== 'Created';
        if (!done) {
          const imsi = ctx.imsi ?? (await deps.inventory.findSubscription(iccid))?.imsi;
          const type = await deps.inventory.profileType(ctx.mnoId, need(ctx.profileType, 'profileType'));
          await es3('ProfileDownloadCompleted', ctx, info, {
            eid: ctx.eid,
            iccid,
            profileType: type.name,
            ...(imsi !== undefined ? { subscriptionAddress: { imsi } } : {}),
            pol2: type.pol2,
          });
        }
        // Committed with this step's checkpoint (one statement on PostgreSQL); a repeat marks it again.
        await deps.inventory.markInstalled(iccid, info.transactionId, need(ctx.isdpAid, 'isdpAid'), info.commitWithCheckpoint);
      },
    },
    {
      // The last step, so its write ends the flow. The MNO's ES2.HandleProfileEnabledNotification is the
      // SM-SR's ES3 one, forwarded (notifier.ts): SGP.02 §3.2 reports an enable once, from the SM-SR that ran
      // it; a notification of the flow's own would tell the MNO twice.
      name: 'enable',
      spec: 'SGP.02 §3.2 ES3.EnableProfile (when enableProfile); its ES3 notification reaches the MNO on ES2',
      async run(ctx, info) {
        if (!ctx.enableProfile) return;
        const done = deps.isRepeat(info) && (await profileOnCard(ctx, info))?.state === 'Enabled';
        if (!done) await es3('EnableProfile', ctx, info, { eid: ctx.eid, iccid: need(ctx.iccid, 'iccid') });
      },
    },
  ];
  return {
    name: DOWNLOAD_FLOW,
    steps,
    // Persisted with the failed row: the SGP.02 status for the ES2 answer, and whether the ISD-P may exist.
    onFailure(error, ctx, info) {
      reservedRows.delete(info.transactionId);
      const subject = info.step === 'reserve-profile' ? (ctx.requestedIccid ?? ctx.requestedProfileType) : ctx.eid;
      return { failure: { status: toExecutionStatus(error, subject), isdpUncertain: info.step === 'create-isdp' && !isDefiniteRefusal(error) } };
    },
  };
}

/** The SM-SR does not know the ICCID (8.2.1 / 3.9): there is no ISD-P for it. */
export function isIccidUnknown(error: unknown): boolean {
  return (
    isRspError(error) &&
    'statusCodeData' in error &&
    (error as { statusCodeData: { reasonCode: string; subjectCode: string } }).statusCodeData.reasonCode === SMDP_STATUS.ICCID_UNKNOWN.reasonCode &&
    (error as { statusCodeData: { subjectCode: string } }).statusCodeData.subjectCode === SMDP_STATUS.ICCID_UNKNOWN.subjectCode
  );
}

/** Index of a step by name (compensation decides from where the flow stopped). */
export function stepIndex(flow: FlowDefinition<DownloadContext>, name: string | null): number {
  return name === null ? flow.steps.length : flow.steps.findIndex((step) => step.name === name);
}

/** True when the error is a definite refusal (an SM-SR Failed reply or a local check), not an unknown outcome. */
export function isDefiniteRefusal(error: unknown): boolean {
  return isRspError(error, StatusError.code) && (error as StatusError).status === 'Failed';
}
