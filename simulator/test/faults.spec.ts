import { describe, expect, it } from '@jest/globals';
import { FaultPlanInvalidError, FaultPlanRunner, corruptBytes, mulberry32, parseFaultPlan } from '../src/faults';

const plan = parseFaultPlan({
  seed: 42,
  es5: { drop: 0.2, corrupt: 0.1, duplicate: 0.1, delay: { probability: 0.2, ms: 50 } },
  powerLossAt: ['download:segment#3', 'install'],
  devices: { '89049032123451234512345678901235': { memoryFull: true } },
});

const decisions = (runner: FaultPlanRunner, eid: string, n: number) => Array.from({ length: n }, () => runner.forDevice(eid).nextEs5());

describe('fault plans', () => {
  it('mulberry32 is deterministic per seed', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const c = mulberry32(8);
    const sa = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(sa);
    expect(c()).not.toBe(sa[0]);
    expect(sa.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('same seed → same decisions; another seed → different ones', () => {
    const eid = '89049032123451234512345678901235';
    const first = decisions(new FaultPlanRunner(plan), eid, 200);
    expect(decisions(new FaultPlanRunner(plan), eid, 200)).toEqual(first);
    expect(decisions(new FaultPlanRunner({ ...plan, seed: 43 }), eid, 200)).not.toEqual(first);
    const kinds = new Set(first.map((d) => d.action));
    expect([...kinds].sort()).toEqual(['corrupt', 'delay', 'deliver', 'drop', 'duplicate']);
    const drops = first.filter((d) => d.action === 'drop').length;
    expect(drops).toBeGreaterThan(15);
    expect(drops).toBeLessThan(65);
  });

  it('each card has its own stream, independent of other cards’ traffic', () => {
    const a = new FaultPlanRunner(plan);
    const b = new FaultPlanRunner(plan);
    decisions(b, '89049032123451234512345678901243', 50); // other card's traffic
    expect(decisions(b, '89049032123451234512345678901235', 20)).toEqual(decisions(a, '89049032123451234512345678901235', 20));
  });

  it('power loss fires once at a named step, or at its n-th occurrence', () => {
    const hooks = new FaultPlanRunner(plan).forDevice('x').cardFaults();
    const fired = Array.from({ length: 4 }, () => hooks.powerLossAt?.('download:segment'));
    expect(fired).toEqual([false, false, true, false]);
    expect([hooks.powerLossAt?.('install'), hooks.powerLossAt?.('install')]).toEqual([true, false]);
    expect(hooks.memoryFull?.()).toBe(false);
  });

  it('per-device overrides merge over fleet defaults', () => {
    const runner = new FaultPlanRunner(plan);
    expect(runner.forDevice('89049032123451234512345678901235').cardFaults().memoryFull?.()).toBe(true);
    expect(runner.faultsFor('89049032123451234512345678901235').es5?.drop).toBe(0.2);
  });

  it('rejects invalid plans with a typed error', () => {
    expect(() => parseFaultPlan({})).toThrow(FaultPlanInvalidError);
    expect(() => parseFaultPlan({ seed: 1, es5: { drop: 2 } })).toThrow(/es5.drop/);
    expect(() => parseFaultPlan({ seed: 1, devices: { x: { es5: { delay: { probability: 0.5, ms: -1 } } } } })).toThrow(/delay/);
    expect(() => parseFaultPlan(null)).toThrow(FaultPlanInvalidError);
  });

  it('corruptBytes flips one byte of a copy', () => {
    const input = Buffer.from('aabbcc', 'hex');
    expect(corruptBytes(input, 4).toString('hex')).toBe('aa44cc');
    expect(input.toString('hex')).toBe('aabbcc');
  });

  it('tamperEs8 flips the C-MAC of the last command only in scripts that carry an ES8 segment', () => {
    const installForPerso = Buffer.from('84E62000' + '05' + '0102030405', 'hex');
    const storeData = Buffer.from('84E2910010' + '00'.repeat(8) + '1122334455667788', 'hex');
    const select = Buffer.from('00A4040000', 'hex');
    const injector = new FaultPlanRunner(parseFaultPlan({ seed: 1, es5: { tamperEs8: 1 } })).forDevice('x');
    const es5Only = [select, Buffer.from(storeData)];
    expect(injector.tamperEs8Segment(es5Only)).toBe(false);
    expect(es5Only[1]?.equals(storeData)).toBe(true);
    const es8 = [installForPerso, storeData];
    expect(injector.tamperEs8Segment(es8)).toBe(true);
    expect(es8[1]?.subarray(0, -1).equals(storeData.subarray(0, -1))).toBe(true);
    expect(es8[1]?.at(-1)).toBe(0x89);
    expect(storeData.at(-1)).toBe(0x88); // the caller's buffer is not touched
    expect(new FaultPlanRunner(parseFaultPlan({ seed: 1 })).forDevice('x').tamperEs8Segment([installForPerso, storeData])).toBe(false);
    expect(() => parseFaultPlan({ seed: 1, es5: { tamperEs8: 1.5 } })).toThrow(/es5.tamperEs8/);
  });
});
