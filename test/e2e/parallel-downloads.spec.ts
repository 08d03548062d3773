/**
 * 40 ES2 downloads at once, each on its own card (first contact: the ISD-R handover too), through the
 * real SM-DP, SM-SR and cards: all end Executed-Success with 40 distinct ICCIDs. On PostgreSQL the
 * reservation is one `UPDATE … FOR UPDATE SKIP LOCKED … RETURNING` (apps/sm-dp/src/domain/inventory.ts),
 * which 40 concurrent callers cannot make fail while subscriptions remain.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { enabledIsdp } from '@rsp/card';
import { generateTestPki } from '@rsp/pki';
import { secureMosquittoSkipReason } from '../support/brokers';
import { realService } from '../support/real-services';
import { MnoClient, startE2eStack, type E2eStack } from './support';

const pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
const mosquittoSkip = secureMosquittoSkipReason();
const postgres = await realService('database');
const CARDS = 40;

function suite(kind: 'embedded' | 'real') {
  const available = kind === 'embedded' || (mosquittoSkip === undefined && postgres.url !== undefined);
  (available ? describe : describe.skip)(`${CARDS} parallel downloads on ${kind === 'embedded' ? 'aedes + SQLite' : 'Mosquitto + PostgreSQL'}`, () => {
    const SMSR_ID = `smsr.parallel-${kind}`;
    let stack: E2eStack;
    let mno: MnoClient;

    beforeAll(async () => {
      const apiKey = randomBytes(16).toString('hex');
      stack = await startE2eStack(kind, {
        pki,
        database: kind === 'real' ? { kind: 'postgres', url: postgres.url as string, schemaPrefix: `par_${randomBytes(4).toString('hex')}_` } : { kind: 'sqlite-memory' },
        ids: { smsrId: SMSR_ID, smdpId: `smdp.parallel-${kind}` },
        mnos: [{ mnoId: 'mno.a', apiKey }],
        devices: [{ model: 'generic', count: CARDS, firstSerial: 54_000_000 + (kind === 'embedded' ? 0 : 1000) }],
      });
      mno = new MnoClient('mno.a', apiKey, stack.smdp.httpUrl, stack.smsr.httpUrl);
      await mno.stock('a-iot', CARDS + 5, kind === 'embedded' ? '8949071' : '8949072');
    }, 120_000);

    afterAll(async () => stack?.close());

    it(`${CARDS} concurrent ES2 DownloadProfile all end Executed-Success on ${CARDS} distinct ICCIDs`, async () => {
      const results = await Promise.all(stack.eids.map((eid) => mno.es2('downloadProfile', { eid, smsrId: SMSR_ID, profileType: 'a-iot', enableProfile: true })));
      // A failure shows its whole status (subject, reason, message), not only "Failed".
      const outcome = (status: { status: string }) => (status.status === 'Executed-Success' ? status.status : JSON.stringify(status));
      expect(results.map((result) => outcome(result.header.functionExecutionStatus))).toEqual(stack.eids.map(() => 'Executed-Success'));
      const iccids = results.map((result) => result.iccid as string);
      expect(new Set(iccids).size).toBe(CARDS);
      stack.eids.forEach((eid, index) => expect(enabledIsdp(stack.fleetOf(eid).pool.snapshot(eid))?.profile?.iccid).toBe(iccids[index]));
    }, 120_000);
  });
}

suite('embedded');
suite('real');
