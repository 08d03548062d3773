/**
 * The SM-SR's function tables: ES1 (EUM), ES3 (SM-DP) and ES4 (MNO) by SGP.02 function name, each run
 * through the common {@link FunctionRunner} frame, plus card notifications. Transport-free: the Nest
 * controllers (HTTP, MQTT) only authenticate and call {@link SmSrService.call}.
 */
import { es1, es3, es4, failed, type Check, type RequestHeader } from '@rsp/contracts';
import type { KeyObject } from 'node:crypto';
import type { IdempotencyPort } from '@rsp/persistence';
import type { IsdRKeySet } from '@rsp/card';
import type { Es5Channel } from '../es5/es5-channel';
import { AuditFunction } from './audit';
import { CardGateway } from './card-gateway';
import type { CardLease } from './card-lease';
import { CardNotificationHandler } from './card-notifications';
import { DownloadFunctions } from './download-functions';
import { toEis } from './eis-view';
import { SMSR_STATUS } from './errors';
import { IsdRKeyHandover } from './isd-r-handover';
import { failedResult, FunctionRunner, type CallContext, type FunctionResult, type SmSrInterface } from './function-runner';
import type { EisRegistry, ProfileRecord, SmSrLogger } from './model';
import { NotificationPlanner, type MnoEndpoint } from './notifications';
import type { OwnerPolicyGuard } from './owner-policy';
import { owns, ProfileOperations, type Requester } from './profile-operations';
import { RegisterEis } from './register-eis';

export interface SmSrServiceOptions {
  smsrId: string;
  registry: EisRegistry;
  /** ES1 / ES4 (external callers): the shared table, so any instance replays any repeat. */
  idempotency: IdempotencyPort;
  /**
   * ES3 (the SM-DPs, internal): when this SM-SR runs as a single instance, memory (no rows per call);
   * absent = `idempotency`.
   */
  internalIdempotency?: IdempotencyPort;
  es5: Es5Channel;
  ciCertificate: Buffer;
  eums: ReadonlyMap<string, Buffer>;
  mnos: ReadonlyMap<string, MnoEndpoint>;
  logger: SmSrLogger;
  now?: () => Date;
  initialIsdRKeys?: (eid: string) => IsdRKeySet;
  /** CERT.SR.ECDSA (GP 7F21) and SK.SR.ECDSA: with both, each card's ISD-R key set is replaced at first ES5 use. */
  isdRHandover?: { smsrCertificate: Uint8Array; smsrPrivateKey: KeyObject };
  /** Owner consent / device suspension checks (docs/owner-registry.md); absent = none. */
  ownerPolicy?: OwnerPolicyGuard;
  /** The cross-instance card lock (card-lease.ts); absent = one instance per database. */
  cardLease?: CardLease;
}

type Handler = (request: never, context: CallContext, body: unknown) => Promise<Record<string, unknown>>;
interface FunctionEntry {
  check: Check<{ header: RequestHeader }>;
  handler: Handler;
}
const entry = <R extends { header: RequestHeader }>(check: Check<R>, handler: (request: R, context: CallContext, body: unknown) => Promise<Record<string, unknown>>): FunctionEntry => ({
  check: check as Check<{ header: RequestHeader }>,
  handler: handler as Handler,
});

export class SmSrService {
  readonly cards: CardGateway;
  readonly profiles: ProfileOperations;
  readonly cardNotifications: CardNotificationHandler;
  private readonly runner: FunctionRunner;
  private readonly tables: Record<SmSrInterface, Record<string, FunctionEntry>>;

  constructor(private readonly options: SmSrServiceOptions) {
    const now = options.now ?? (() => new Date());
    const { registry, logger } = options;
    const handover = options.isdRHandover ? new IsdRKeyHandover({ registry, es5: options.es5, logger, ...options.isdRHandover }) : undefined;
    this.cards = new CardGateway(options.es5, handover, options.cardLease);
    const external = options.idempotency;
    const internal = options.internalIdempotency ?? external;
    this.runner = new FunctionRunner({ ES1: external, ES3: internal, ES4: external }, logger, () => now().getTime());
    const planner = new NotificationPlanner(options.smsrId, options.mnos, now);
    this.profiles = new ProfileOperations({ registry, cards: this.cards, planner, logger, now });
    const download = new DownloadFunctions(registry, this.cards, this.profiles);
    const audit = new AuditFunction(registry, this.cards, logger, now);
    this.cardNotifications = new CardNotificationHandler(registry, this.cards, this.profiles, logger);
    const register = new RegisterEis({
      registry,
      smsrId: options.smsrId,
      ciCertificate: options.ciCertificate,
      eums: options.eums,
      now,
      ...(options.initialIsdRKeys ? { initialIsdRKeys: options.initialIsdRKeys } : {}),
    });

    const smdp = (context: CallContext): Requester => ({ role: 'smdp', id: context.requester });
    const mno = (context: CallContext): Requester => ({ role: 'mno', id: context.requester });
    const getEis = (who: (context: CallContext) => Requester) => async (request: es3.GetEisRequest, context: CallContext) => {
      const record = await this.profiles.requireEuicc(request.eid);
      return { eis: toEis(record, owns(who(context))) }; // only the requester's profiles [U]
    };
    const auditEis = (who: (context: CallContext) => Requester) => (request: es3.AuditEisRequest, context: CallContext) =>
      this.cards.exclusive(
        request.eid,
        async () => {
          const audited = await audit.audit(await this.profiles.requireEuicc(request.eid), context.deadline);
          const wanted = request.iccids ? new Set(request.iccids) : undefined;
          const visible = (profile: ProfileRecord) => owns(who(context))(profile) && (wanted === undefined || wanted.has(profile.iccid));
          return { eis: toEis(audited, visible) };
        },
        context.deadline,
      );

    this.tables = {
      ES1: { RegisterEIS: entry(es1.registerEisRequest, (request, context, body) => register.execute(request, context, body)) },
      ES3: {
        GetEIS: entry(es3.getEisRequest, getEis(smdp)),
        AuditEIS: entry(es3.auditEisRequest, auditEis(smdp)),
        CreateISDP: entry(es3.createIsdpRequest, (request, context) => download.createIsdp(request, context)),
        SendData: entry(es3.sendDataRequest, (request, context) => download.sendData(request, context)),
        ProfileDownloadCompleted: entry(es3.profileDownloadCompletedRequest, (request, context) => download.profileDownloadCompleted(request, context)),
        UpdatePolicyRules: entry(es3.updatePolicyRulesRequest, (r, c) => this.profiles.updatePolicyRules(r.eid, r.iccid, r.pol2, smdp(c))),
        EnableProfile: entry(es3.enableProfileRequest, (r, c) => this.profiles.enable(r.eid, r.iccid, smdp(c), c.deadline)),
        DisableProfile: entry(es3.disableProfileRequest, (r, c) => this.profiles.disable(r.eid, r.iccid, smdp(c), c.deadline)),
        DeleteISDP: entry(es3.deleteIsdpRequest, (r, c) => this.profiles.delete(r.eid, r.iccid, smdp(c), c.deadline)),
      },
      ES4: {
        GetEIS: entry(es4.getEisRequest, getEis(mno)),
        AuditEIS: entry(es4.auditEisRequest, auditEis(mno)),
        EnableProfile: entry(es4.enableProfileRequest, (r, c) => this.profiles.enable(r.eid, r.iccid, mno(c), c.deadline)),
        DisableProfile: entry(es4.disableProfileRequest, (r, c) => this.profiles.disable(r.eid, r.iccid, mno(c), c.deadline)),
        DeleteProfile: entry(es4.deleteProfileRequest, (r, c) => this.profiles.delete(r.eid, r.iccid, mno(c), c.deadline)),
        UpdatePolicyRules: entry(es4.updatePolicyRulesRequest, (r, c) => this.profiles.updatePolicyRules(r.eid, r.iccid, r.pol2, mno(c))),
      },
    };
  }

  /** SGP.02 function names of an interface (for the adapters' routes). */
  functionNames(iface: SmSrInterface): string[] {
    return Object.keys(this.tables[iface]);
  }

  /** Function name in any case (`enableProfile`, `EnableProfile`) → its SGP.02 name, if the interface has it. */
  resolve(iface: SmSrInterface, name: string): string | undefined {
    return this.functionNames(iface).find((candidate) => candidate.toLowerCase() === name.toLowerCase());
  }

  /**
   * Runs one function. `authenticated` is the requester the transport proved (MNO by API key, EUM by
   * key or signature); the header must name it. `ownerConsent` is the ES4 `X-Owner-Consent` header.
   * Always resolves to a response, Failed included.
   */
  call(iface: SmSrInterface, name: string, body: unknown, authenticated?: string, ownerConsent?: string): Promise<FunctionResult> {
    const resolved = this.resolve(iface, name);
    const fn = resolved === undefined ? undefined : this.tables[iface][resolved];
    if (!fn) return Promise.resolve(failedResult(failed(SMSR_STATUS.FUNCTION_UNSUPPORTED, name.slice(0, 64))));
    return this.runner.run({
      iface,
      name: resolved as string,
      check: fn.check,
      body,
      ...(authenticated !== undefined ? { authenticated } : {}),
      handler: (request, context) => fn.handler(request as never, context, body),
      ...(this.options.ownerPolicy ? { guard: (request: object, requester: string) => this.ownerGuard(iface, resolved as string, request, requester, ownerConsent) } : {}),
    });
  }

  private ownerGuard(iface: SmSrInterface, name: string, request: object, requester: string, ownerConsent: string | undefined): Promise<void> {
    return this.options.ownerPolicy ? this.options.ownerPolicy.check(iface, name, request, requester, ownerConsent) : Promise.resolve();
  }
}
