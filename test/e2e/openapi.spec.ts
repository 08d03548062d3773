/**
 * OpenAPI generated from the contracts (issue 13): the SM-DP's and SM-SR's documents pass
 * @apidevtools/swagger-parser; every ES1, ES2 and ES4 function has its own operation whose request schema is
 * the contracts' own check; each function's example request passes that check and, sent to a running
 * stack, is answered as a well-formed call (no 1.6 validation refusal), GetEIS and DownloadProfile with success.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import SwaggerParser from '@apidevtools/swagger-parser';
import { es1, es2, es4, exampleRequest, functionPath, parse, type Check, type HttpInterface } from '@rsp/contracts';
import { createTestbed, type Testbed } from '../../scripts/testbed';

let bed: Testbed;
const documents: Record<'smdp' | 'smsr', { paths: Record<string, { post?: { requestBody?: { content: Record<string, { schema: Record<string, unknown>; example?: unknown }> } } }> }> = {} as never;

beforeAll(async () => {
  bed = await createTestbed({ operators: { 'mno.demo': { profileTypes: { 'demo-iot': 2 } } } });
  documents.smdp = (await (await fetch(`${bed.stack.smdp.httpUrl}/docs-json`)).json()) as never;
  documents.smsr = (await (await fetch(`${bed.stack.smsr.httpUrl}/docs-json`)).json()) as never;
}, 30_000);
afterAll(() => bed?.close());

const TABLES: Array<[HttpInterface, 'smdp' | 'smsr', Record<string, Check<unknown>>]> = [
  ['ES2', 'smdp', es2.ES2_REQUESTS],
  ['ES4', 'smsr', es4.ES4_REQUESTS],
  ['ES1', 'smsr', es1.ES1_REQUESTS],
];

describe('OpenAPI documents', () => {
  it.each(['smdp', 'smsr'] as const)('the %s document is valid OpenAPI (swagger-parser)', async (service) => {
    await expect(SwaggerParser.validate(structuredClone(documents[service]) as never)).resolves.toBeDefined();
  });

  it.each(TABLES)('every %s function has its own operation with the contracts request schema', (iface, service, requests) => {
    for (const functionName of Object.keys(requests)) {
      const body = documents[service].paths[functionPath(iface, functionName)]?.post?.requestBody?.content['application/json'];
      expect(body?.schema).toMatchObject({ type: 'object', properties: expect.objectContaining({ header: expect.any(Object) }) });
      expect(Object.keys((body?.schema.properties ?? {}) as object).length).toBeGreaterThan(1);
    }
  });

  it('the DownloadProfile schema says what the validator checks (EID pattern, alternatives)', () => {
    const schema = documents.smdp.paths['/gsma/es2/downloadProfile']?.post?.requestBody?.content['application/json']?.schema as {
      properties: Record<string, { pattern?: string }>;
      required: string[];
      description: string;
    };
    expect(schema.properties.eid?.pattern).toBe('^89[0-9]{30}$');
    expect(schema.required).toEqual(expect.arrayContaining(['header', 'eid', 'smsrId', 'enableProfile']));
    expect(schema.required).not.toContain('profileType');
    expect(schema.description).toMatch(/iccid or profileType/);
  });
});

describe('each example request', () => {
  it.each(TABLES.filter(([iface]) => iface !== 'ES1'))('of %s passes its check and is a well-formed call on the running stack', async (iface, service, requests) => {
    for (const [functionName, check] of Object.entries(requests)) {
      const example = exampleRequest(iface, functionName) as Record<string, unknown>;
      expect(() => parse(check, example)).not.toThrow();
      // The documented example, aimed at this stack's oven and SM-SR.
      const request = { ...example, eid: bed.eid('oven'), ...(iface === 'ES2' ? { smsrId: bed.stack.smsr.smsrId } : {}) };
      const url = `${service === 'smdp' ? bed.stack.smdp.httpUrl : bed.stack.smsr.httpUrl}${functionPath(iface, functionName)}`;
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': bed.apiKey('mno.demo') }, body: JSON.stringify(request) });
      const status = ((await response.json()) as { header: { functionExecutionStatus: { status: string; statusCodeData?: { subjectCode: string } } } }).header.functionExecutionStatus;
      expect({ functionName, subject: status.statusCodeData?.subjectCode.startsWith('1.') ? status.statusCodeData.subjectCode : 'not a 1.x refusal' }).toEqual({ functionName, subject: 'not a 1.x refusal' });
      if (['GetEIS', 'DownloadProfile'].includes(functionName)) expect({ functionName, status: status.status }).toEqual({ functionName, status: 'Executed-Success' });
    }
  }, 60_000);
});
