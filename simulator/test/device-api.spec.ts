import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { DeviceApiPortInUseError, startDeviceApi, type DeviceApi } from '../src/device-api';
import { Fleet } from '../src/fleet';
import { STUB_COMMANDS, testPki } from './support';

let fleet: Fleet;
let api: DeviceApi;
let eid: string;

beforeAll(async () => {
  fleet = await Fleet.create({ size: 3, model: 'oven', pki: testPki(), commands: STUB_COMMANDS, faults: { seed: 1, devices: {} } });
  eid = fleet.eids()[0] as string;
  api = await startDeviceApi(fleet, { port: 0 });
});
afterAll(async () => {
  await api.close();
  await fleet.close();
});

interface ApiResult {
  status: number;
  type: string;
  body: { error: { code: string; message: string } } & Record<string, unknown>;
}

async function call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<ApiResult> {
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers: { 'content-type': contentType },
    ...(body === undefined ? {} : { body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body) }),
  });
  const type = response.headers.get('content-type') ?? '';
  const parsed: unknown = type.includes('json') ? await response.json() : Buffer.from(await response.arrayBuffer());
  return { status: response.status, type, body: parsed as ApiResult['body'] };
}

describe('device API', () => {
  it('a port already taken is an error with its code, naming the setting that chose it', async () => {
    const taken = startDeviceApi(fleet, { port: api.port, portSetting: 'RSP_SIM_API_PORT' });
    await expect(taken).rejects.toBeInstanceOf(DeviceApiPortInUseError);
    await expect(taken).rejects.toMatchObject({ code: 'ERR_SIM_API_PORT_IN_USE', message: expect.stringMatching(/127\.0\.0\.1:\d+ is already in use; choose another with RSP_SIM_API_PORT/) });
  });

  it('lists devices and shows one without secrets', async () => {
    const list = await call('GET', '/devices?limit=2');
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ total: 3, offset: 0, devices: fleet.eids().slice(0, 2).map((e) => ({ eid: e, model: 'oven' })) });
    const one = await call('GET', `/devices/${eid}`);
    expect(one.body).toMatchObject({ eid, model: 'oven', connectivity: { wifi: 'up', cellularCoverage: true }, enabled: { iccid: expect.any(String) } });
    expect(JSON.stringify(one.body)).not.toMatch(/"(ki|opc|privateKey|enc|mac|dek)"/);
    // Lifecycle names beside the GP codes (issue 13: the API showed raw codes such as 31 and 63 only).
    const profiles = (one.body as unknown as { profiles: Array<{ lifeCycle: number; lifeCycleName: string }> }).profiles;
    expect(profiles.length).toBeGreaterThan(0);
    for (const profile of profiles) expect(profile.lifeCycleName).toBe({ 7: 'SELECTABLE', 15: 'PERSONALIZED', 31: 'DISABLED', 63: 'ENABLED' }[profile.lifeCycle]);
    expect(profiles.map((profile) => profile.lifeCycleName)).toContain('ENABLED');
  });

  it('raw APDU endpoint: JSON hex and octet-stream', async () => {
    const json = await call('POST', `/euicc/${eid}/apdu`, { apdu: '80 CA 00 5A 00' });
    expect(json.status).toBe(200);
    expect(json.body).toEqual({ response: `${eid}9000`, sw: '9000' });
    const refused = await call('POST', `/euicc/${eid}/apdu`, { apdu: '80EE000000' });
    expect(refused.body).toEqual({ response: '6A80', sw: '6A80' });
    const raw = await call('POST', `/euicc/${eid}/apdu`, Buffer.from('80CA005A00', 'hex'), 'application/octet-stream');
    expect(raw.type).toBe('application/octet-stream');
    expect((raw.body as unknown as Buffer).toString('hex')).toBe(`${eid}9000`);
  });

  it('errors: bad hex, bad JSON, short APDU → 400; unknown EID / route → 404; wrong method → 405', async () => {
    for (const body of [{ apdu: 'zz' }, { apdu: 'abc' }, { nope: 1 }]) {
      const r = await call('POST', `/euicc/${eid}/apdu`, body);
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ error: { code: 'ERR_SIM_BAD_HEX', message: expect.any(String) } });
    }
    expect((await call('POST', `/euicc/${eid}/apdu`, '{not json')).body.error.code).toBe('ERR_SIM_BAD_JSON');
    expect((await call('POST', `/euicc/${eid}/apdu`, { apdu: '80CA' })).body.error.code).toBe('ERR_SIM_BAD_APDU');
    const unknown = await call('POST', '/euicc/89049032123451234512345678999999/apdu', { apdu: '80CA005A00' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('ERR_SIM_UNKNOWN_EID');
    expect((await call('GET', '/devices/123')).status).toBe(404);
    expect((await call('GET', '/nowhere')).status).toBe(404);
    expect((await call('GET', `/euicc/${eid}/apdu`)).status).toBe(405);
    expect((await call('POST', `/devices/${eid}/connectivity`, { wifi: 'yes' })).status).toBe(400);
  });

  it('connectivity changes stream as Server-Sent Events', async () => {
    const received: string[] = [];
    const done = new Promise<void>((resolve) => {
      const req = request(`${api.url}/devices/${eid}/events`, (res) => {
        expect(res.headers['content-type']).toBe('text/event-stream');
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          received.push(chunk);
          if (received.join('').includes('event: connectivity')) {
            req.destroy();
            resolve();
          }
        });
        void call('POST', `/devices/${eid}/connectivity`, { cellular: false }).then((r) => {
          expect(r.body).toEqual({ connectivity: { wifi: 'up', cellularCoverage: false }, fallbackTriggered: false });
        });
      });
      req.end();
    });
    await done;
    const data = received.join('').split('\n').find((line) => line.startsWith('data: '));
    expect(JSON.parse((data as string).slice(6))).toMatchObject({ type: 'connectivity', eid, cellularCoverage: false });
  });

  it('attach over HTTP', async () => {
    await call('POST', `/devices/${eid}/connectivity`, { cellular: true });
    const r = await call('POST', `/devices/${eid}/attach`);
    expect(r.body).toMatchObject({ type: 'attach', result: 'ok' });
  });
});
