/**
 * Cards on a thread of their own (issue 11 item 3, simulator/src/fleet-thread.ts): a stack device group
 * with `thread: 'worker'` is manufactured, registered (ES1) and served over the broker from a worker
 * thread; a full ES2 download with enable reaches it there, and the thread reports its own CPU time so the
 * bench can split services from cards. The cards are not reachable in process: only over the broker.
 * The broker runs on a thread of its own too (`brokerThread`, libs/mqtt-transport broker-thread.ts), as in
 * the bench: everything between the services and the cards crosses two thread boundaries.
 *
 * `npm start`'s arrangement has its own block: two single cards (each its own broker identity, its EID) on
 * the card thread, their states in files, and the device and raw APDU API served from that thread.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTestPki, type TestPki } from '@rsp/pki';
import { freshSecretBoxKeys, startStack, type Stack } from '../../scripts/stack';
import { threadCpuMs } from '../../simulator/src/fleet-thread';
import { MnoClient } from './support';

const SMSR_ID = 'smsr.threads';

describe('cards on a worker thread', () => {
  let stack: Stack;
  let mno: MnoClient;

  beforeAll(async () => {
    const apiKey = randomBytes(16).toString('hex');
    stack = await startStack({
      pki: generateTestPki({ curve: 'P-256', euiccCount: 0 }),
      database: { kind: 'sqlite-memory' },
      ids: { smsrId: SMSR_ID, smdpId: 'smdp.threads' },
      mnos: [{ mnoId: 'mno.threads', apiKey }],
      devices: [{ model: 'generic', count: 3, firstSerial: 58_000_000, thread: 'worker' }],
      brokerThread: true,
    });
    mno = new MnoClient('mno.threads', apiKey, stack.smdp.httpUrl, stack.smsr.httpUrl);
    await mno.stock('threads', 3, '8949074');
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('registers the thread’s cards with the SM-SR and provisions one of them over the broker', async () => {
    expect(stack.cardThreads).toHaveLength(1);
    expect(stack.fleets).toHaveLength(0);
    expect(stack.eids).toHaveLength(3);
    const eid = stack.eids[1] as string;
    const result = await mno.es2('downloadProfile', { eid, smsrId: SMSR_ID, profileType: 'threads', enableProfile: true });
    expect(result.header.functionExecutionStatus.status).toBe('Executed-Success');
    const eis = await mno.es4('getEIS', { eid });
    expect(eis.header.functionExecutionStatus.status).toBe('Executed-Success');
    expect(() => stack.fleetOf(eid)).toThrow(/card thread/);
  }, 60_000);

  it('reads the card thread’s and the broker thread’s own CPU time, apart from the services’ thread', async () => {
    const [cardThread] = stack.cardThreads;
    const cards = await cardThread?.cpuMs();
    const broker = stack.broker && 'cpuMs' in stack.broker ? await stack.broker.cpuMs() : 'not a broker thread';
    const main = threadCpuMs();
    if (process.platform !== 'linux') return; // /proc/thread-self is Linux's
    expect(cards).toBeGreaterThan(0);
    expect(broker).toBeGreaterThan(0);
    expect(main).toBeGreaterThan(0);
  });
});

describe("npm start's arrangement: single cards on the card thread, states in files, the device API there", () => {
  const SMSR = 'smsr.start-thread';
  const dirs: string[] = [];
  const pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
  const apiKey = randomBytes(16).toString('hex');
  const secretBoxKeys = freshSecretBoxKeys(); // one key for the whole block: a restart must open what the last start sealed
  const tempDir = (prefix: string): string => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
  const cardStateDir = tempDir('rsp-card-thread-cards-');
  const mqttCredentialsDir = tempDir('rsp-card-thread-mqtt-');
  const databaseDir = tempDir('rsp-card-thread-db-');
  const start = (extra: { deviceApiPort?: number; mixed?: boolean } = {}): Promise<Stack> =>
    startStack({
      pki: pki as TestPki,
      database: { kind: 'sqlite', dir: databaseDir },
      ids: { smsrId: SMSR, smdpId: 'smdp.start-thread' },
      mnos: [{ mnoId: 'mno.start-thread', apiKey }],
      devices: [
        { model: 'oven', count: 1, firstSerial: 59_000_000, thread: 'worker' },
        { model: 'bbq', count: 1, firstSerial: 59_000_001, thread: extra.mixed ? 'main' : 'worker' },
      ],
      secretBoxKeys,
      cardStateDir,
      mqttCredentialsDir,
      deviceApi: { port: extra.deviceApiPort ?? 0, portSetting: 'RSP_SIM_API_PORT' },
    });

  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('serves both cards from one card thread, with their own identities; the API answers there; a restart keeps the profile', async () => {
    let stack = await start();
    try {
      expect(stack.cardThreads).toHaveLength(1);
      expect(stack.fleets).toHaveLength(0);
      expect(stack.devices.map((device) => device.model)).toEqual(['oven', 'bbq']);
      const [oven, bbq] = stack.eids as [string, string];
      // Each single card proved its own identity (its EID), kept with the stack's other identities.
      expect(readdirSync(mqttCredentialsDir)).toEqual(expect.arrayContaining([`${oven}.crt`, `${bbq}.crt`]));
      const api = stack.deviceApiUrl as string;
      const listed = (await (await fetch(`${api}/devices`)).json()) as { total: number; devices: Array<{ eid: string }> };
      expect(listed.total).toBe(2);
      expect(listed.devices.map((device) => device.eid)).toEqual([oven, bbq]);
      const apdu = await fetch(`${api}/euicc/${bbq}/apdu`, { method: 'POST', body: JSON.stringify({ apdu: '00A4040000' }) });
      expect(apdu.status).toBe(200);
      expect(((await apdu.json()) as { sw: string }).sw).toMatch(/^[0-9A-F]{4}$/);

      const mno = new MnoClient('mno.start-thread', apiKey, stack.smdp.httpUrl, stack.smsr.httpUrl);
      const [subscription] = await mno.stock('start-thread', 1, '8949073');
      const result = await mno.es2('downloadProfile', { eid: oven, smsrId: SMSR, profileType: 'start-thread', enableProfile: true });
      expect(result.header.functionExecutionStatus.status).toBe('Executed-Success');
      const device = (await (await fetch(`${api}/devices/${oven}`)).json()) as { enabled?: { iccid?: string } };
      expect(device.enabled?.iccid).toBe(subscription?.iccid);
      expect(readdirSync(cardStateDir).length).toBeGreaterThan(0);

      await stack.close();
      stack = await start();
      const again = (await (await fetch(`${stack.deviceApiUrl as string}/devices/${oven}`)).json()) as { enabled?: { iccid?: string } };
      expect(again.enabled?.iccid).toBe(subscription?.iccid);
    } finally {
      await stack.close();
    }
  }, 120_000);

  it('refuses a device API over cards of two threads, and names the setting of a device API port in use', async () => {
    await expect(start({ mixed: true })).rejects.toThrow(/device API serves the cards of one thread/);
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    try {
      const busy = (holder.address() as { port: number }).port;
      await expect(start({ deviceApiPort: busy })).rejects.toThrow(/ERR_SIM_API_PORT_IN_USE.*RSP_SIM_API_PORT/);
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
    expect(existsSync(cardStateDir)).toBe(true);
  }, 120_000);
});
