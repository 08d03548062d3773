/**
 * Structured logs (issue 10 item 6) as an operator reads them: the stack logs JSON lines through pino;
 * each HTTP request line and each domain line carries the correlation ids (functionCallIdentifier,
 * transactionId, EID) and its service; credentials are redacted by configuration, and no secret the
 * test handled (API key, Ki, OPc) appears anywhere in the log.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { generateTestPki } from '@rsp/pki';
import { createServiceLogger } from '@rsp/service-kit';
import { startStack, type Stack } from '../../scripts/stack';
import { eventually, MnoClient } from './support';

type Line = Record<string, unknown> & { service?: string; msg?: string; level: number };

const pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
const SMSR_ID = 'smsr.logs';

describe('structured logs', () => {
  const raw: string[] = [];
  const lines = (): Line[] => raw.map((text) => JSON.parse(text) as Line);
  const apiKey = randomBytes(16).toString('hex');
  let stack: Stack;
  let mno: MnoClient;
  let stock: Array<{ iccid: string; ki: string; opc: string }>;

  beforeAll(async () => {
    stack = await startStack({
      pki,
      database: { kind: 'sqlite-memory' },
      ids: { smsrId: SMSR_ID, smdpId: 'smdp.logs' },
      mnos: [{ mnoId: 'mno.a', apiKey }],
      devices: [{ model: 'oven', count: 1, firstSerial: 70_000_000 + (process.pid % 500) }],
      logger: createServiceLogger(undefined, { level: 'info', destination: { write: (line: string) => void raw.push(line) } }),
    });
    mno = new MnoClient('mno.a', apiKey, stack.smdp.httpUrl, stack.smsr.httpUrl);
    stock = await mno.stock('a-iot', 2, '8949007');
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('logs each ES2 request with its functionCallIdentifier and EID, the API key redacted', async () => {
    const eid = stack.eids[0] as string;
    const callId = randomUUID();
    const result = await mno.es2('downloadProfile', { eid, smsrId: SMSR_ID, iccid: stock[0]?.iccid, enableProfile: true }, { functionCallIdentifier: callId });
    expect(result.header.functionExecutionStatus.status).toBe('Executed-Success');
    const request = await eventually(lines, (all) => all.some((line) => line['functionCallIdentifier'] === callId)).then((all) => all.find((line) => line['functionCallIdentifier'] === callId) as Line);
    expect(request).toMatchObject({ service: 'sm-dp', eid, req: { method: 'POST', url: '/gsma/es2/downloadProfile', headers: { 'x-api-key': '[redacted]' } }, res: { statusCode: 200 } });
  });

  it('puts the call id, requester, EID and code on a refusal, and the transaction id on a failed download step', async () => {
    const eid = stack.eids[0] as string;
    const callId = randomUUID(); // the ICCID the first test installed: the flow fails at its reservation step
    await mno.es2('downloadProfile', { eid, smsrId: SMSR_ID, iccid: stock[0]?.iccid, enableProfile: false }, { functionCallIdentifier: callId });
    await mno.es2('downloadProfile', { eid, smsrId: SMSR_ID, iccid: stock[1]?.iccid, enableProfile: false }, { functionCallIdentifier: callId });
    const all = await eventually(lines, (found) => found.some((line) => line['functionCallIdentifier'] === callId && String(line.msg).includes('reused')));
    expect(all.find((line) => String(line.msg).includes('reused'))).toMatchObject({ service: 'sm-dp', requester: 'mno.a', eid, code: '1.6/3.3' });
    expect(all.find((line) => line['transactionId'] !== undefined && line['functionCallIdentifier'] === callId)).toMatchObject({ service: 'sm-dp', eid, level: 40 });
  });

  it('keeps successful reads (polling) at debug: at info the log holds changes and refusals', async () => {
    const before = raw.length;
    const read = await fetch(`${stack.smdp.httpUrl}/transactions`, { headers: { 'x-api-key': apiKey } });
    expect(read.status).toBe(200);
    const refused = await fetch(`${stack.smdp.httpUrl}/transactions`);
    expect(refused.status).toBe(401);
    const requests = await eventually(
      () => raw.slice(before).map((text) => JSON.parse(text) as Line).filter((line) => line['req'] !== undefined),
      (found) => found.length >= 1,
    );
    expect(requests.map((line) => [(line['res'] as { statusCode: number }).statusCode, line.level])).toEqual([[401, 40]]);
  });

  it('is JSON lines from named services only, with no secret in them', () => {
    const all = lines();
    expect(all.length).toBeGreaterThan(3);
    for (const line of all) expect(['sm-sr', 'sm-dp']).toContain(line.service);
    const text = raw.join('');
    expect(text).not.toContain(apiKey);
    for (const record of stock) {
      expect(text.toLowerCase()).not.toContain(record.ki.toLowerCase());
      expect(text.toLowerCase()).not.toContain(record.opc.toLowerCase());
    }
  });
});
