/**
 * The SM-SR's function tables: ES1 (EUM), ES3 (SM-DP) and ES4 (MNO), one row per SGP.02 function, run
 * through the common frame of @rsp/contracts (`FunctionFrame`), plus card notifications. Transport-free:
 * the Nest controllers (HTTP, MQTT) turn their request into a frame call with the requester they proved.
 */
import { es1, es3, es4, functionRow, FunctionFrame, type FunctionRow, type ProvenRequester, type RequestHeader } from '@rsp/contracts';
import type { KeyObject } from 'node:crypto';
import { requestFingerprint, type IdempotencyPort } from '@rsp/persistence';
import type { IsdRKeySet } from '@rsp/offcard';
import type { Es5Channel } from '../es5/es5-channel';
import { AuditFunction } from './audit';
import { CardGateway, type CardTurns } from './card-gateway';
import type { CardLease } from './card-lease';
import { CardNotificationHandler } from './card-notifications';
import { DownloadFunctions } from './download-functions';
import { toEis } from './eis-view';
import { executionStatusOf } from './errors';
import { IsdRKeyHandover } from './isd-r-handover';
import type { CallContext, FunctionResult, SmSrInterface } from './function-runner';
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
  /** Told who holds each card (the transaction log, which ties the card's scripts to that call); absent = no one. */
  cardTurns?: CardTurns;
  /** How long a repeat waits for a first call still running (the frame's step 8). Default 120 s. */
  replayWaitMs?: number;
}

export class SmSrService {
  readonly cards: CardGateway;
  readonly profiles: ProfileOperations;
  readonly cardNotifications: CardNotificationHandler;
  /** ES1, ES3 and ES4 on the common frame; the adapters call it with the requester they proved. */
  readonly frame: FunctionFrame;

  constructor(private readonly options: SmSrServiceOptions) {
    const now = options.now ?? (() => new Date());
    const { registry, logger } = options;
    const handover = options.isdRHandover ? new IsdRKeyHandover({ registry, es5: options.es5, logger, ...options.isdRHandover }) : undefined;
    this.cards = new CardGateway(options.es5, handover, options.cardLease, options.cardTurns);
    const external = options.idempotency;
    const internal = options.internalIdempotency ?? external;
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
        context,
      );

    // Every row gets the owner policy as its guard (docs/owner-registry.md); ES1 and the reads have no row in its table.
    const row = <R extends { header: RequestHeader }>(iface: SmSrInterface, definition: Omit<FunctionRow<R>, 'guard'>): FunctionRow => {
      const policy = options.ownerPolicy;
      const guard = policy ? (request: R, call: CallContext) => policy.check(iface, definition.name, request, call.requester, call.ownerConsent) : undefined;
      return functionRow<R>({ ...definition, ...(guard ? { guard } : {}) });
    };
    const es3Row = <R extends { header: RequestHeader }>(definition: Omit<FunctionRow<R>, 'guard'>) => row<R>('ES3', definition);
    const es4Row = <R extends { header: RequestHeader }>(definition: Omit<FunctionRow<R>, 'guard'>) => row<R>('ES4', definition);
    const statusOf = executionStatusOf; // ES5 failures past the validityPeriod → Expired; card status words → their codes

    this.frame = new FunctionFrame({
      fingerprint: requestFingerprint,
      clock: { now: () => now().getTime(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
      logger,
      ...(options.replayWaitMs !== undefined ? { replayWaitMs: options.replayWaitMs } : {}),
      tables: [
        {
          iface: 'ES1',
          idempotency: external,
          statusOf,
          rows: [
            // Without an API key the EUM's signature over the EIS proves the requester (register-eis.ts steps 1–3).
            row<es1.RegisterEisRequest>('ES1', {
              name: 'RegisterEIS',
              spec: 'SGP.02 §5.5.1, §3.9 [U numbering]',
              validator: es1.registerEisRequest,
              handler: (request, call) => register.execute(request, call, call.body),
              authenticatesRequester: true,
            }),
          ],
        },
        {
          iface: 'ES3',
          idempotency: internal,
          statusOf,
          rows: [
            es3Row({ name: 'GetEIS', spec: 'SGP.02 §5.4 [U numbering]', validator: es3.getEisRequest, handler: getEis(smdp) }),
            es3Row({ name: 'AuditEIS', spec: 'SGP.02 §5.4 [U numbering]', validator: es3.auditEisRequest, handler: auditEis(smdp) }),
            es3Row<es3.CreateIsdpRequest>({ name: 'CreateISDP', spec: 'SGP.02 §3.1.1, §5.4', validator: es3.createIsdpRequest, handler: (r, c) => download.createIsdp(r, c) }),
            es3Row<es3.SendDataRequest>({ name: 'SendData', spec: 'SGP.02 §3.1.2, §3.1.3, §5.4', validator: es3.sendDataRequest, handler: (r, c) => download.sendData(r, c) }),
            es3Row<es3.ProfileDownloadCompletedRequest>({ name: 'ProfileDownloadCompleted', spec: 'SGP.02 §3.1.1, §5.4', validator: es3.profileDownloadCompletedRequest, handler: (r, c) => download.profileDownloadCompleted(r, c) }),
            es3Row<es3.UpdatePolicyRulesRequest>({ name: 'UpdatePolicyRules', spec: 'SGP.02 §3.11, §5.4 [U numbering]', validator: es3.updatePolicyRulesRequest, handler: (r, c) => this.profiles.updatePolicyRules(r.eid, r.iccid, r.pol2, smdp(c)) }),
            es3Row<es3.UpdateSubscriptionAddressRequest>({ name: 'UpdateSubscriptionAddress', spec: 'SGP.02 §5.4 [U numbering]', validator: es3.updateSubscriptionAddressRequest, handler: (r, c) => this.profiles.updateSubscriptionAddress(r.eid, r.iccid, r.newSubscriptionAddress, smdp(c)) }),
            es3Row<es3.ProfileRequest>({ name: 'EnableProfile', spec: 'SGP.02 §3.2, §5.4', validator: es3.enableProfileRequest, handler: (r, c) => this.profiles.enable(r.eid, r.iccid, smdp(c), c) }),
            es3Row<es3.ProfileRequest>({ name: 'DisableProfile', spec: 'SGP.02 §3.3, §5.4 [U numbering]', validator: es3.disableProfileRequest, handler: (r, c) => this.profiles.disable(r.eid, r.iccid, smdp(c), c) }),
            es3Row<es3.ProfileRequest>({ name: 'DeleteISDP', spec: 'SGP.02 §3.4, §5.4', validator: es3.deleteIsdpRequest, handler: (r, c) => this.profiles.delete(r.eid, r.iccid, smdp(c), c) }),
          ],
        },
        {
          iface: 'ES4',
          idempotency: external,
          statusOf,
          rows: [
            es4Row({ name: 'GetEIS', spec: 'SGP.02 §5.6 [U numbering]', validator: es4.getEisRequest, handler: getEis(mno) }),
            es4Row({ name: 'AuditEIS', spec: 'SGP.02 §5.6 [U numbering]', validator: es4.auditEisRequest, handler: auditEis(mno) }),
            es4Row<es4.EnableProfileRequest>({ name: 'EnableProfile', spec: 'SGP.02 §3.2, §5.6', validator: es4.enableProfileRequest, handler: (r, c) => this.profiles.enable(r.eid, r.iccid, mno(c), c) }),
            es4Row<es4.DisableProfileRequest>({ name: 'DisableProfile', spec: 'SGP.02 §3.3, §5.6 [U numbering]', validator: es4.disableProfileRequest, handler: (r, c) => this.profiles.disable(r.eid, r.iccid, mno(c), c) }),
            es4Row<es4.DeleteProfileRequest>({ name: 'DeleteProfile', spec: 'SGP.02 §3.4, §5.6', validator: es4.deleteProfileRequest, handler: (r, c) => this.profiles.delete(r.eid, r.iccid, mno(c), c) }),
            es4Row<es4.UpdatePolicyRulesRequest>({ name: 'UpdatePolicyRules', spec: 'SGP.02 §3.11, §5.6 [U numbering]', validator: es4.updatePolicyRulesRequest, handler: (r, c) => this.profiles.updatePolicyRules(r.eid, r.iccid, r.pol2, mno(c)) }),
            es4Row<es4.UpdateSubscriptionAddressRequest>({ name: 'UpdateSubscriptionAddress', spec: 'SGP.02 §5.6 [U numbering]', validator: es4.updateSubscriptionAddressRequest, handler: (r, c) => this.profiles.updateSubscriptionAddress(r.eid, r.iccid, r.newSubscriptionAddress, mno(c)) }),
          ],
        },
      ],
    });
  }

  /** Who a profile belongs to (its MNO) and which SM-DP downloaded it, when the registry holds it. */
  async profileOwners(iccid: string): Promise<{ mnoId: string; smdpId: string } | undefined> {
    const profile = await this.options.registry.findByIccid(iccid);
    return profile && { mnoId: profile.mnoId, smdpId: profile.smdpId };
  }

  /** SGP.02 function names of an interface. */
  functionNames(iface: SmSrInterface): string[] {
    return this.frame.functionNames(iface);
  }

  /**
   * Runs one function from inside the process (tests, the stack's wiring): `authenticated` is a requester
   * proven elsewhere, which the header must name; without it the header names the requester.
   * `ownerConsent` is the ES4 `X-Owner-Consent` header. Always resolves to a response, Failed included.
   */
  async call(iface: SmSrInterface, name: string, body: unknown, authenticated?: string, ownerConsent?: string): Promise<FunctionResult> {
    const requester: ProvenRequester = authenticated === undefined ? { kind: 'in-process' } : { kind: 'proven', id: authenticated };
    const answer = await this.frame.call({ iface, functionName: name, body, requester, ...(ownerConsent !== undefined ? { ownerConsent } : {}) });
    return answer.response;
  }
}
