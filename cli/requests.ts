/**
 * Pure request builders of the operator CLI: one function per command, each returning the HTTP path
 * and the body of `POST /gsma/{es1|es2|es4}/{functionName}` (docs/services.md "HTTP binding").
 * Every body goes through the `@rsp/contracts` validator of its function before any network call, so
 * a typo fails with the same ContractError (1.6 / 2.1, 2.2, 2.3) the service would answer.
 */
import { randomUUID } from 'node:crypto';
import {
  ContractError,
  encodePol1,
  policyRules,
  POLICY_QUALIFICATIONS,
  es1,
  es2,
  es4,
  parse,
  type Check,
  type Eis,
  type PolicyRule,
  type RequestHeader,
} from '@rsp/contracts';

export type RspInterface = 'es1' | 'es2' | 'es4';

/** A request ready to send: path relative to the service base URL, validated body. */
export interface BuiltRequest<Body = unknown> {
  interface: RspInterface;
  /** lowerCamelCase function name as it appears in the path, e.g. `downloadProfile`. */
  functionName: string;
  /** `/gsma/es2/downloadProfile` */
  path: string;
  body: Body;
}

/** What the global options contribute to the SGP.02 §5.1 request header. */
export interface HeaderOptions {
  /** header.functionRequesterIdentifier: must match the MNO the API key belongs to. */
  requester: string;
  /** header.functionCallIdentifier (idempotency key); a fresh UUID when absent. */
  callId?: string;
  /** header.validityPeriod in seconds. */
  validity?: number;
}

/** Options of the profile commands (enable / disable / delete …). */
export interface ProfileInput {
  eid?: string;
  iccid?: string;
}

/** ES2 commands also name the SM-SR the eUICC is registered with. */
export interface Es2ProfileInput extends ProfileInput {
  smsrId?: string;
}

export interface Es2DownloadProfileInput extends Es2ProfileInput {
  profileType?: string;
  /** enableProfile: enable the profile once downloaded (SGP.02 §3.1.1 / §3.2). */
  enable?: boolean;
}

/** POL2 given as a JSON array (`--pol2`) or as `ACTION:QUALIFICATION` rules (`--rule`). */
export interface PolicyInput {
  pol2?: string;
  rule?: string[];
}

export interface SubscriptionAddressInput extends Es2ProfileInput {
  imsi?: string;
  msisdn?: string;
}

export function requestHeader(options: HeaderOptions): RequestHeader {
  const header: RequestHeader = {
    functionRequesterIdentifier: options.requester,
    functionCallIdentifier: options.callId ?? randomUUID(),
  };
  if (options.validity !== undefined) header.validityPeriod = options.validity;
  return header;
}

function build<Body>(iface: RspInterface, functionName: string, check: Check<Body>, body: Record<string, unknown>): BuiltRequest<Body> {
  return { interface: iface, functionName, path: `/gsma/${iface}/${functionName}`, body: parse(check, body) };
}

/**
 * POL2 from the CLI options (SGP.02 §2.4.5 policy rules; subject is always PROFILE). `--rule` takes
 * `DISABLE:Not-Allowed`, `DELETE:Not-Allowed`, `DISABLE:Auto-Delete` (case-insensitive). Undefined when
 * neither option is given, so the validator reports the mandatory pol2.
 */
export function policyRulesFrom(input: PolicyInput, name = 'pol2'): unknown {
  const rules = input.rule ?? [];
  if (input.pol2 !== undefined && rules.length > 0) throw new ContractError.InvalidParameter('pol2', 'either --pol2 or --rule, not both');
  if (input.pol2 !== undefined) {
    try {
      return JSON.parse(input.pol2) as unknown;
    } catch {
      throw new ContractError.InvalidParameter('pol2', 'a JSON array of policy rules');
    }
  }
  if (rules.length === 0) return undefined;
  return rules.map((text, index): Partial<PolicyRule> | string => {
    const [action, qualification, ...rest] = text.split(':');
    if (action === undefined || qualification === undefined || rest.length > 0) {
      throw new ContractError.InvalidParameter(`${name}[${index}]`, 'ACTION:QUALIFICATION, e.g. DISABLE:Not-Allowed');
    }
    const known = POLICY_QUALIFICATIONS.find((q) => q.toLowerCase() === qualification.trim().toLowerCase());
    return { subject: 'PROFILE', action: action.trim().toUpperCase() as PolicyRule['action'], qualification: known ?? (qualification as PolicyRule['qualification']) };
  });
}

// ---- The SM-DP's inventory (not an SGP.02 function: the MNO's profile types, docs/services.md "Policy rules") ----

export interface ProfileTypeInput {
  name?: string;
  /** A SAIP profile package template, DER as hex (default: the SM-DP's own). */
  template?: string;
  /** POL1 rules, `ACTION:QUALIFICATION`: written into the profile, enforced by the card. */
  pol1Rule?: string[];
  /** POL2 rules, `ACTION:QUALIFICATION`: kept by the SM-SR with each profile of the type. */
  pol2Rule?: string[];
}

/**
 * `POST /mno/profileTypes` on the SM-DP: adds or replaces a profile type, with its POL1 (carried in the
 * profile's SAIP ProfileHeader) and POL2. The rules are checked here first, with the contracts' own checks:
 * POL1 has no ENABLE rule and no DELETE:Auto-Delete, and either list holds at most one rule per action. The
 * name and the template are the SM-DP's to check (it answers 1.6 / 2.1 naming the field).
 */
export function mnoProfileType(input: ProfileTypeInput, _header: HeaderOptions): BuiltRequest<Record<string, unknown>> {
  const rules = (name: 'pol1' | 'pol2', given: string[] | undefined): PolicyRule[] | undefined =>
    given?.length ? policyRules(policyRulesFrom({ rule: given }, name), name) : undefined;
  const pol1 = rules('pol1', input.pol1Rule);
  if (pol1) encodePol1(pol1);
  const pol2 = rules('pol2', input.pol2Rule);
  const body = { name: input.name, ...(input.template ? { template: input.template } : {}), ...(pol1 ? { pol1 } : {}), ...(pol2 ? { pol2 } : {}) };
  return { interface: 'es2', functionName: 'profileType', path: '/mno/profileTypes', body };
}

// ---- ES2: MNO → SM-DP (SGP.02 §5.3) ----

export function es2GetEis(input: Es2ProfileInput, header: HeaderOptions): BuiltRequest<es2.GetEisRequest> {
  return build('es2', 'getEIS', es2.getEisRequest, { header: requestHeader(header), eid: input.eid, smsrId: input.smsrId });
}

/** SGP.02 §3.1.1: iccid or profileType (exactly one), enableProfile false unless --enable. */
export function es2DownloadProfile(input: Es2DownloadProfileInput, header: HeaderOptions): BuiltRequest<es2.DownloadProfileRequest> {
  return build('es2', 'downloadProfile', es2.downloadProfileRequest, {
    header: requestHeader(header),
    eid: input.eid,
    smsrId: input.smsrId,
    iccid: input.iccid,
    profileType: input.profileType,
    enableProfile: input.enable ?? false,
  });
}

export function es2UpdatePolicyRules(input: Es2ProfileInput & PolicyInput, header: HeaderOptions): BuiltRequest<es2.UpdatePolicyRulesRequest> {
  return build('es2', 'updatePolicyRules', es2.updatePolicyRulesRequest, {
    header: requestHeader(header),
    eid: input.eid,
    iccid: input.iccid,
    smsrId: input.smsrId,
    pol2: policyRulesFrom(input),
  });
}

/** --imsi / --msisdn as the newSubscriptionAddress of UpdateSubscriptionAddress (at least one: 1.6 / 2.3). */
function subscriptionAddressFrom(input: { imsi?: string; msisdn?: string }): Record<string, string> {
  const address: Record<string, string> = {};
  if (input.imsi !== undefined) address.imsi = input.imsi;
  if (input.msisdn !== undefined) address.msisdn = input.msisdn;
  if (Object.keys(address).length === 0) throw new ContractError.ConditionalElementMissing('newSubscriptionAddress.imsi|msisdn');
  return address;
}

export function es2UpdateSubscriptionAddress(
  input: SubscriptionAddressInput,
  header: HeaderOptions,
): BuiltRequest<es2.UpdateSubscriptionAddressRequest> {
  const newSubscriptionAddress = subscriptionAddressFrom(input);
  return build('es2', 'updateSubscriptionAddress', es2.updateSubscriptionAddressRequest, {
    header: requestHeader(header),
    eid: input.eid,
    iccid: input.iccid,
    smsrId: input.smsrId,
    newSubscriptionAddress,
  });
}

const es2Profile =
  (functionName: 'enableProfile' | 'disableProfile' | 'deleteProfile', check: Check<es2.ProfileRequest>) =>
  (input: Es2ProfileInput, header: HeaderOptions): BuiltRequest<es2.ProfileRequest> =>
    build('es2', functionName, check, { header: requestHeader(header), eid: input.eid, iccid: input.iccid, smsrId: input.smsrId });

export const es2EnableProfile = es2Profile('enableProfile', es2.enableProfileRequest);
export const es2DisableProfile = es2Profile('disableProfile', es2.disableProfileRequest);
export const es2DeleteProfile = es2Profile('deleteProfile', es2.deleteProfileRequest);

// ---- ES4: MNO → SM-SR (SGP.02 §5.6) ----

export function es4GetEis(input: ProfileInput, header: HeaderOptions): BuiltRequest<es4.GetEisRequest> {
  return build('es4', 'getEIS', es4.getEisRequest, { header: requestHeader(header), eid: input.eid });
}

/** AuditEIS: `iccids` limits the audit to those profiles; absent means all the MNO's profiles. */
export function es4AuditEis(input: { eid?: string; iccid?: string[] }, header: HeaderOptions): BuiltRequest<es4.AuditEisRequest> {
  const iccids = input.iccid !== undefined && input.iccid.length > 0 ? input.iccid : undefined;
  return build('es4', 'auditEIS', es4.auditEisRequest, { header: requestHeader(header), eid: input.eid, iccids });
}

const es4Profile =
  (functionName: 'enableProfile' | 'disableProfile' | 'deleteProfile', check: Check<es4.ProfileRequest>) =>
  (input: ProfileInput, header: HeaderOptions): BuiltRequest<es4.ProfileRequest> =>
    build('es4', functionName, check, { header: requestHeader(header), eid: input.eid, iccid: input.iccid });

export const es4EnableProfile = es4Profile('enableProfile', es4.enableProfileRequest);
export const es4DisableProfile = es4Profile('disableProfile', es4.disableProfileRequest);
export const es4DeleteProfile = es4Profile('deleteProfile', es4.deleteProfileRequest);

export function es4UpdatePolicyRules(input: ProfileInput & PolicyInput, header: HeaderOptions): BuiltRequest<es4.UpdatePolicyRulesRequest> {
  return build('es4', 'updatePolicyRules', es4.updatePolicyRulesRequest, {
    header: requestHeader(header),
    eid: input.eid,
    iccid: input.iccid,
    pol2: policyRulesFrom(input),
  });
}

export function es4UpdateSubscriptionAddress(
  input: Omit<SubscriptionAddressInput, 'smsrId'>,
  header: HeaderOptions,
): BuiltRequest<es4.UpdateSubscriptionAddressRequest> {
  return build('es4', 'updateSubscriptionAddress', es4.updateSubscriptionAddressRequest, {
    header: requestHeader(header),
    eid: input.eid,
    iccid: input.iccid,
    newSubscriptionAddress: subscriptionAddressFrom(input),
  });
}

// ---- ES1: EUM → SM-SR (SGP.02 §5.5) ----

/**
 * RegisterEIS from the parsed content of an EIS file: either the signed EIS itself or an object
 * `{ eis: … }` (e.g. a saved request body; its header is replaced by the CLI's).
 */
export function es1RegisterEis(fileContent: unknown, header: HeaderOptions): BuiltRequest<es1.RegisterEisRequest> {
  const isWrapped =
    typeof fileContent === 'object' && fileContent !== null && 'eis' in fileContent && !('eid' in fileContent);
  const eis = isWrapped ? (fileContent as { eis: unknown }).eis : fileContent;
  return build('es1', 'registerEIS', es1.registerEisRequest, { header: requestHeader(header), eis: eis as Eis });
}
