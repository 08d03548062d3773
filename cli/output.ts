/**
 * Turns a service response into the CLI's human-readable lines and exit code. The response body is
 * the GSMA JSON binding style `{ header: { functionExecutionStatus }, …output }` (docs/services.md);
 * only the header is checked strictly, outputs are shown as they come.
 */
import type { Eis, EisProfile, FunctionExecutionStatus, StatusCodeData } from '@rsp/contracts';

/** Exit codes: 0 Executed-Success / -WithWarning, 2 Failed, 3 Expired, 1 usage or transport error. */
export const EXIT = { OK: 0, USAGE_OR_TRANSPORT: 1, FAILED: 2, EXPIRED: 3 } as const;

export function exitCodeFor(status: FunctionExecutionStatus): number {
  switch (status.status) {
    case 'Executed-Success':
    case 'Executed-WithWarning':
      return EXIT.OK;
    case 'Failed':
      return EXIT.FAILED;
    case 'Expired':
      return EXIT.EXPIRED;
  }
}

/** `8.1.1/3.9  Unknown EID (subjectIdentifier 89…)` */
export function describeStatusCode(code: StatusCodeData): string {
  const parts = [`${code.subjectCode}/${code.reasonCode}`];
  const text = [code.message, code.subjectIdentifier === undefined ? undefined : `(subjectIdentifier ${code.subjectIdentifier})`]
    .filter((part): part is string => part !== undefined)
    .join(' ');
  if (text) parts.push(text);
  return parts.join('  ');
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function scalarOutputs(body: Record<string, unknown>): string[] {
  return Object.entries(body)
    .filter(([key, value]) => key !== 'header' && ['string', 'number', 'boolean'].includes(typeof value))
    .map(([key, value]) => `${key} ${shorten(String(value))}`);
}

/** Long outputs (euiccResponseData hex) are cut on the human line; `--json` shows them whole. */
function shorten(text: string): string {
  return text.length <= 80 ? text : `${text.slice(0, 32)}… (${text.length} chars, see --json)`;
}

function describeProfile(profile: Partial<EisProfile>): string {
  const parts = [`profile ${profile.iccid ?? '?'}`, profile.state ?? '?', `mno ${profile.mnoId ?? '?'}`];
  if (profile.profileType !== undefined) parts.push(`type ${profile.profileType}`);
  if (profile.fallbackAttribute === true) parts.push('fallback');
  if (Array.isArray(profile.pol2) && profile.pol2.length > 0) {
    parts.push(`pol2 ${profile.pol2.map((rule) => `${rule.action}:${rule.qualification}`).join(',')}`);
  }
  return `  ${parts.join('  ')}`;
}

/** A few lines about an EIS (GetEIS / AuditEIS): identity, memory, one line per profile. */
export function describeEis(eis: Partial<Eis>): string[] {
  const head = [`eid ${eis.eid ?? '?'}`, `smsr ${eis.smsrId ?? '?'}`, `eum ${eis.eumId ?? '?'}`];
  if (eis.remainingMemory !== undefined) head.push(`memory ${eis.remainingMemory} free`);
  if (eis.availableMemoryForProfiles !== undefined) head.push(`${eis.availableMemoryForProfiles} for profiles`);
  if (eis.lastAuditDate !== undefined) head.push(`audited ${eis.lastAuditDate}`);
  const profiles = Array.isArray(eis.profiles) ? eis.profiles : [];
  return [`  ${head.join('  ')}`, ...(profiles.length === 0 ? ['  no profile'] : profiles.map(describeProfile))];
}

/**
 * The human-readable result of one call:
 * `Executed-Success  downloadProfile  iccid 8949…`, `Failed  8.1.1/3.9  Unknown EID (subjectIdentifier …)`.
 */
export function formatResponse(functionName: string, status: FunctionExecutionStatus, body: Record<string, unknown>): string[] {
  if (status.status === 'Failed' || status.status === 'Expired') {
    return [[status.status, status.statusCodeData ? describeStatusCode(status.statusCodeData) : ''].filter(Boolean).join('  ')];
  }
  const first = [status.status, functionName];
  if (status.statusCodeData !== undefined) first.push(describeStatusCode(status.statusCodeData));
  first.push(...scalarOutputs(body));
  const lines = [first.join('  ')];
  if (isRecord(body.eis)) lines.push(...describeEis(body.eis as Partial<Eis>));
  return lines;
}
