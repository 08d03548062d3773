import { describe, expect, it, jest } from '@jest/globals';
import { Fleet } from '../src/fleet';
import { DeviceHandle, deviceEventFromCard, type DeviceEvent } from '../src/device';
import { CardPool } from '../src/card-host';
import { ISDP_LIFE_CYCLE, MemoryCardStore } from '@rsp/card';
import { isdpAid } from '@rsp/offcard';
import { STUB_COMMANDS, cardState, testPki } from './support';

const fleet = (model: 'oven' | 'bbq' | 'generic') => Fleet.create({ size: 2, model, pki: testPki(), commands: STUB_COMMANDS, now: new Date('2026-01-01T00:00:00Z') });

describe('device models', () => {
  it('exposes identifiers of the enabled profile and never a secret', async () => {
    const f = await fleet('bbq');
    const device = f.device(f.eids()[0] as string);
    const info = device?.info();
    expect(info?.enabled?.iccid).toMatch(/^89\d{17}$/);
    expect(info?.enabled?.imsi).toMatch(/^00101\d{10}$/);
    expect(device?.identity()).toEqual({ eid: f.eids()[0], iccid: info?.enabled?.iccid, imsi: info?.enabled?.imsi });
    const text = JSON.stringify(info);
    const state = f.pool.snapshot(f.eids()[0] as string);
    for (const secret of [state.ecasd.privateKey, state.isdR.keySets[0]?.enc, state.isdps[0]?.profile?.ki, state.isdps[0]?.profile?.opc]) {
      expect(text).not.toContain(secret as string);
    }
  });

  it('oven: losing cellular with Wi-Fi up does not fall back; with Wi-Fi down it does', async () => {
    const f = await fleet('oven');
    const eid = f.eids()[0] as string;
    const spy = jest.spyOn(f.pool, 'connectivityLost').mockReturnValue(true);
    const device = f.device(eid)!;
    const events: DeviceEvent[] = [];
    device.watch((e) => events.push(e));
    expect(device.setConnectivity({ cellular: false })).toBe(false);
    expect(spy).not.toHaveBeenCalled();
    expect(device.reachable()).toBe(true);
    expect(device.setConnectivity({ wifi: false })).toBe(true);
    expect(spy).toHaveBeenCalledWith(eid);
    expect(device.reachable()).toBe(false);
    expect(events.map((e) => e.type)).toEqual(['connectivity', 'connectivity']);
    expect(events[1]).toMatchObject({ eid, wifi: 'down', cellularCoverage: false });
  });

  it('bbq depends on cellular: losing coverage triggers the card fall-back', async () => {
    const f = await fleet('bbq');
    const eid = f.eids()[0] as string;
    const spy = jest.spyOn(f.pool, 'connectivityLost').mockReturnValue(true);
    const device = f.device(eid)!;
    expect(device.getConnectivity()).toEqual({ wifi: 'down', cellularCoverage: true });
    expect(device.setConnectivity({ wifi: true, cellular: false })).toBe(true); // no Wi-Fi radio: stays down
    expect(device.getConnectivity().wifi).toBe('down');
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it('attach runs Milenage AKA through the card and advances SQN', async () => {
    const f = await fleet('generic');
    const eid = f.eids()[0] as string;
    const device = f.device(eid)!;
    const events: DeviceEvent[] = [];
    device.watch((e) => events.push(e));
    expect(device.attach()).toMatchObject({ type: 'attach', result: 'ok', imsi: device.identity().imsi });
    const sqn1 = f.pool.snapshot(eid).isdps[0]?.profile?.sqnMs;
    expect(device.attach()).toMatchObject({ result: 'ok' });
    expect(f.pool.snapshot(eid).isdps[0]?.profile?.sqnMs).not.toBe(sqn1);
    await new Promise((resolve) => setTimeout(resolve, 20)); // card events that arrive late count too
    // One event per attach: the network's verdict, not the card's AUTHENTICATE event as well (issue 13).
    expect(events.filter((e) => e.type === 'attach')).toHaveLength(2);
    device.setCoverage(false);
    expect(device.attach()).toMatchObject({ result: 'no-coverage' });
  });

  it('a real card: one attach event per attach, the network’s verdict (issue 13: each attach appeared twice)', async () => {
    const f = await Fleet.create({ size: 1, model: 'bbq', pki: testPki(), now: new Date('2026-01-01T00:00:00Z') });
    const eid = f.eids()[0] as string;
    const device = f.device(eid)!;
    const events: DeviceEvent[] = [];
    device.watch((e) => events.push(e));
    expect(device.attach()).toMatchObject({ type: 'attach', result: 'ok' });
    expect(device.attach()).toMatchObject({ type: 'attach', result: 'ok' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(events.filter((e) => e.type === 'attach').map((e) => (e as { result: string }).result)).toEqual(['ok', 'ok']);
  });

  it('real card: losing coverage enables the fall-back profile and the device sees REFRESH', () => {
    const state = cardState(1);
    const bootstrap = state.isdps[0]!;
    bootstrap.lifeCycle = ISDP_LIFE_CYCLE.DISABLED; // fall-back profile, not enabled
    state.isdps.push({ ...structuredClone(bootstrap), aid: isdpAid(2), fallback: false, lifeCycle: ISDP_LIFE_CYCLE.ENABLED,
      profile: { ...bootstrap.profile!, iccid: '8949001234567890118', imsi: '262010000000002' } });
    const pool = new CardPool({ store: new MemoryCardStore() }); // the real command table
    pool.add(state);
    const device = new DeviceHandle(state.eid, 'bbq', pool);
    pool.on('card-event', (_eid, e) => device.onCardEvent(e));
    const events: DeviceEvent[] = [];
    device.watch((e) => events.push(e));
    expect(device.identity().iccid).toBe('8949001234567890118');
    expect(device.setCoverage(false)).toBe(true);
    expect(device.identity().iccid).toBe(bootstrap.profile?.iccid);
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('connectivity');
    expect(types).toEqual(expect.arrayContaining(['refresh', 'fallback-triggered', 'notification-queued']));
    expect(device.setCoverage(false)).toBe(false); // already on the fall-back profile
  });

  it('maps card events to device events', () => {
    expect(deviceEventFromCard({ type: 'notification-acknowledged', seq: 3 })).toEqual({ type: 'notification-delivered', seq: 3 });
    expect(deviceEventFromCard({ type: 'refresh', reason: 'fallback' })).toEqual({ type: 'refresh', reason: 'fallback' });
    expect(deviceEventFromCard({ type: 'profile-switched', toAid: 'A0' })).toEqual({ type: 'profile-switched', toAid: 'A0' });
    expect(deviceEventFromCard({ type: 'fallback-triggered', toAid: 'A1' })).toEqual({ type: 'fallback-triggered', toAid: 'A1' });
  });
});
