/**
 * OpenAPI operations of the HTTP binding of ES1, ES2 and ES4 (docs/services.md "HTTP binding"), one per
 * SGP.02 function, with request and response schemas taken from the very checks the services run
 * (`schema` of each {@link Check}, schema.ts), so the documents cannot drift from the validators.
 */
import { jsonSchemaOf, type Check, type JsonSchema } from './schema';
import { ES1_REQUESTS, ES1_RESPONSES } from './messages/es1';
import { ES2_REQUESTS, ES2_RESPONSES } from './messages/es2';
import { ES4_REQUESTS, ES4_RESPONSES } from './messages/es4';

export type HttpInterface = 'ES1' | 'ES2' | 'ES4';

const TABLES: Record<HttpInterface, { requests: Record<string, Check<unknown>>; responses: Record<string, Check<unknown>>; role: string }> = {
  ES1: { requests: ES1_REQUESTS, responses: ES1_RESPONSES, role: 'EUM → SM-SR (SGP.02 §5.5)' },
  ES2: { requests: ES2_REQUESTS, responses: ES2_RESPONSES, role: 'MNO → SM-DP (SGP.02 §5.3)' },
  ES4: { requests: ES4_REQUESTS, responses: ES4_RESPONSES, role: 'MNO → SM-SR (SGP.02 §5.6)' },
};

const EID = '89049032123451234512345678901235';
const ICCID = '89882119900000000012';
const header = (requester: string, callId: string) => ({ functionRequesterIdentifier: requester, functionCallIdentifier: callId });

/** A valid example request per function (RegisterEIS needs a signed EIS: see docs/services.md). */
export const EXAMPLE_PARAMETERS: Record<HttpInterface, Record<string, Record<string, unknown>>> = {
  ES1: {},
  ES2: {
    GetEIS: { eid: EID, smsrId: 'smsr.demo' },
    DownloadProfile: { eid: EID, smsrId: 'smsr.demo', profileType: 'demo-iot', enableProfile: true },
    UpdatePolicyRules: { eid: EID, smsrId: 'smsr.demo', iccid: ICCID, pol2: [{ subject: 'PROFILE', action: 'DISABLE', qualification: 'Not-Allowed' }] },
    UpdateSubscriptionAddress: { eid: EID, smsrId: 'smsr.demo', iccid: ICCID, newSubscriptionAddress: { imsi: '001010000000001' } },
    EnableProfile: { eid: EID, smsrId: 'smsr.demo', iccid: ICCID },
    DisableProfile: { eid: EID, smsrId: 'smsr.demo', iccid: ICCID },
    DeleteProfile: { eid: EID, smsrId: 'smsr.demo', iccid: ICCID },
  },
  ES4: {
    GetEIS: { eid: EID },
    AuditEIS: { eid: EID },
    EnableProfile: { eid: EID, iccid: ICCID },
    DisableProfile: { eid: EID, iccid: ICCID },
    DeleteProfile: { eid: EID, iccid: ICCID },
    UpdatePolicyRules: { eid: EID, iccid: ICCID, pol2: [] },
    UpdateSubscriptionAddress: { eid: EID, iccid: ICCID, newSubscriptionAddress: { msisdn: '447700900123' } },
  },
};

/** The path of a function in the HTTP binding: `/gsma/es2/downloadProfile`, `/gsma/es1/registerEIS`. */
export function functionPath(iface: HttpInterface, functionName: string): string {
  return `/gsma/${iface.toLowerCase()}/${functionName.charAt(0).toLowerCase()}${functionName.slice(1)}`;
}

/** The example request of a function, or undefined when there is none. */
export function exampleRequest(iface: HttpInterface, functionName: string, requester = iface === 'ES1' ? 'eum.demo' : 'mno.demo'): Record<string, unknown> | undefined {
  const parameters = EXAMPLE_PARAMETERS[iface][functionName];
  return parameters === undefined ? undefined : { header: header(requester, `example-${functionName}`), ...parameters };
}

/** The OpenAPI 3 path items of `iface`: one POST per function. */
export function functionPaths(iface: HttpInterface, security: string): Record<string, JsonSchema> {
  const table = TABLES[iface];
  const paths: Record<string, JsonSchema> = {};
  for (const [functionName, check] of Object.entries(table.requests)) {
    const example = exampleRequest(iface, functionName);
    const response = table.responses[functionName];
    paths[functionPath(iface, functionName)] = {
      post: {
        tags: [`${iface} (${table.role})`],
        operationId: `${iface.toLowerCase()}${functionName}`,
        summary: `${iface}.${functionName}`,
        description:
          'Always HTTP 200 with `{ header: { functionExecutionStatus }, …outputs }` for a processed call, Failed and Expired included ' +
          '(SGP.02 §5.1); 401 only when no credential is sent. A repeat of a call id waits for the first outcome; the same id with another body is Failed 1.6/3.3.',
        security: [{ [security]: [] }],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: jsonSchemaOf(check), ...(example ? { example } : {}) } },
        },
        responses: {
          '200': { description: 'The function was processed: see functionExecutionStatus', content: { 'application/json': { schema: response ? jsonSchemaOf(response) : {} } } },
          '401': { description: 'No credential: Failed 1.1/1.1', content: { 'application/json': { schema: response ? jsonSchemaOf(response) : {} } } },
        },
      },
    };
  }
  return paths;
}
