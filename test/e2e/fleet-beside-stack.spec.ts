/**
 * A fleet started beside a running stack (issue 12 "Fleets that join the system"): `npm run sim` asks the
 * stack's device API which EIDs it serves and takes others, so the demo devices keep working; with
 * --register its cards are registered with the stack's SM-SR (ES1) and an MNO provisions them through ES2.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateTestPki } from '@rsp/pki';
import { CombinedDirectory } from '../../simulator/src/demo';
import { startDeviceApi, type DeviceApi } from '../../simulator/src/device-api';
import { parseSimArgs, startSim, type SimHandle } from '../../simulator/src/cli';
import { FleetRangeTaken } from '../../simulator/src/fleet-placement';
import { enabledIsdp } from '@rsp/card';
import type { Stack } from '../../scripts/stack';
import { eventually, MnoClient, startE2eStack } from './support';

const pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
const SMSR_ID = `smsr.beside-${process.pid}`;
const firstSerial = 70_000_000 + (process.pid % 500) * 4;

describe('a fleet beside a running stack', () => {
  let stack: Stack;
  let stackApi: DeviceApi;
  let mno: MnoClient;
  const sims: SimHandle[] = [];
  const lines: string[] = [];
  const stackWarnings: string[] = [];
  const sim = (flags: string[]) => startSim({ ...parseSimArgs(['node', 'sim', ...flags]), pki }, (line) => void lines.push(line));

  beforeAll(async () => {
    const apiKey = randomBytes(16).toString('hex');
    stack = await startE2eStack('embedded', {
      pki,
      database: { kind: 'sqlite-memory' },
      ids: { smsrId: SMSR_ID, smdpId: `smdp.beside-${process.pid}` },
      mnos: [{ mnoId: 'mno.a', apiKey }],
      devices: [{ model: 'oven', count: 2, firstSerial }],
      logger: { log: () => undefined, warn: (message) => void stackWarnings.push(message), error: (message) => void stackWarnings.push(message) },
    });
    stackApi = await startDeviceApi(new CombinedDirectory(stack.fleets), { port: 0 });
    mno = new MnoClient('mno.a', apiKey, stack.smdp.httpUrl, stack.smsr.httpUrl);
    await mno.stock('beside-iot', 4, '8949031');
  }, 60_000);

  afterAll(async () => {
    for (const handle of sims) await handle.close();
    await stackApi?.close();
    await stack?.close();
  });

  it('refuses a range the stack serves, naming the first free serial', async () => {
    const prefix = stack.eids[0]?.slice(0, 20) as string;
    const taken = ['--devices', '2', '--api-port', '0', '--beside', stackApi.url, '--eid-prefix', prefix, '--first-serial', String(firstSerial + 1)];
    await expect(sim(taken)).rejects.toThrow(FleetRangeTaken);
    // From serial 1 under a prefix of its own choosing, the first clear range starts right after the stack's two cards.
    const clash = ['--devices', '3', '--api-port', '0', '--beside', stackApi.url, '--eid-prefix', prefix, '--first-serial', String(firstSerial - 1)];
    await expect(sim(clash)).rejects.toThrow(/already served by the stack at .*: choose --first-serial \d+ \(the first free one\) or another --eid-prefix/);
  });

  it('a busy device API port names --api-port', async () => {
    const busy = new URL(stackApi.url).port;
    await expect(sim(['--devices', '1', '--api-port', busy, '--beside', ''])).rejects.toThrow(new RegExp(`port ${busy} is in use.*--api-port`));
  });

  it('takes free EIDs on its own, registers with --register, and an MNO provisions a fleet card; the stack’s cards keep working', async () => {
    const prefix = stack.eids[0]?.slice(0, 20) as string;
    // ES1 through a proxy that holds each call 300 ms: cards online before their registration would have
    // their eUICC declarations reach the SM-SR in that time, and be ignored as unregistered EIDs'.
    const slowEs1 = await delayingProxy(stack.smsr.httpUrl, 300);
    const handle = await sim([
      '--devices', '3', '--type', 'bbq', '--api-port', '0', '--beside', stackApi.url, '--eid-prefix', prefix,
      '--mqtt-url', stack.mqttUrl, '--smsr-id', SMSR_ID, '--register', slowEs1.url,
    ]).finally(() => slowEs1.close());
    sims.push(handle);
    const fleetEids = handle.fleet.eids();
    for (const eid of fleetEids) expect(stack.eids).not.toContain(eid);
    expect(lines.join('')).toMatch(/clear of the 2 cards served at/);
    expect(lines.join('')).toMatch(/registered 3 cards with/);
    // Registered before they came online (ES1 before ES5): the SM-SR confirms each card's eUICC declaration
    // when it first arrives, and never ignores one as an unregistered EID's.
    for (const eid of fleetEids) expect(await eventually(() => handle.fleet.pool.pendingNotifications(eid).length, (pending) => pending === 0)).toBe(0);
    expect(stackWarnings.filter((line) => fleetEids.some((eid) => line.includes(eid)))).toEqual([]);

    const fleetCard = fleetEids[0] as string;
    const download = await mno.es2('downloadProfile', { eid: fleetCard, smsrId: SMSR_ID, profileType: 'beside-iot', enableProfile: true });
    expect(download.header.functionExecutionStatus.status).toBe('Executed-Success');
    expect(enabledIsdp(handle.fleet.pool.snapshot(fleetCard))?.profile?.iccid).toBe(download.iccid);

    // The stack's own oven is untouched by the fleet: its ES4 and ES2 calls still succeed.
    const oven = stack.eids[0] as string;
    expect((await mno.es4('getEIS', { eid: oven })).header.functionExecutionStatus.status).toBe('Executed-Success');
    const ovenDownload = await mno.es2('downloadProfile', { eid: oven, smsrId: SMSR_ID, profileType: 'beside-iot', enableProfile: true });
    expect(ovenDownload.header.functionExecutionStatus.status).toBe('Executed-Success');
  }, 60_000);
});

/** An HTTP proxy to `target` that forwards each request after `delayMs`. */
async function delayingProxy(target: string, delayMs: number): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      setTimeout(() => {
        fetch(new URL(request.url ?? '/', target), { method: request.method ?? 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.concat(chunks) })
          .then(async (answer) => response.writeHead(answer.status, { 'content-type': 'application/json' }).end(Buffer.from(await answer.arrayBuffer())))
          .catch(() => response.writeHead(502).end());
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('placeFleet (pure)', () => {
  it('skips past served serials to the first clear range', async () => {
    const { placeFleet } = await import('../../simulator/src/fleet-placement');
    const { generateEid } = await import('@rsp/pki');
    const prefix = '89049032123451234599';
    const served = new Set([generateEid(prefix, 10), generateEid(prefix, 11), generateEid(prefix, 14)]);
    expect(placeFleet(3, served, { eidPrefix: prefix }, 'x').firstSerial).toBe(1);
    expect(() => placeFleet(3, served, { eidPrefix: prefix, firstSerial: 9 }, 'x')).toThrow(/choose --first-serial 1 /);
    expect(placeFleet(2, served, { eidPrefix: prefix, firstSerial: 12 }, 'x').firstSerial).toBe(12);
    const demoServed = new Set([generateEid('89049032123451234512', 3456789012), generateEid('89049032123451234512', 3456789013)]);
    expect(placeFleet(5, demoServed, {}, 'x').firstSerial).toBe(3456789014);
  });
});
