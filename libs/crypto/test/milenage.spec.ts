import { describe, expect, it } from '@jest/globals';
import { buildAutn, computeOpc, milenage, resyncSqnFromAuts, verifyAutn } from '../src/milenage';
import { errorCode, h, loadVectors } from './kat-support';

interface TestSet {
  name: string; k: string; rand: string; sqn: string; amf: string; op: string; opc: string;
  f1: string; f1star: string; f2: string; f3: string; f4: string; f5: string; f5star: string;
}
interface AutsCase { name: string; k: string; opc: string; rand: string; auts: string; sqnMs?: string }
interface Negative {
  name: string; expect: string; set?: number; sqnMs?: string; flipAutnByte?: number;
  auts?: number; flipAutsByte?: number; k?: string;
}
const vectors = loadVectors<{ testSets: TestSet[]; auts: AutsCase[]; negative: Negative[] }>('milenage-ts35207-35208.json');

function inputOf(t: TestSet) {
  return { k: h(t.k), opc: h(t.opc), rand: h(t.rand), sqn: h(t.sqn), amf: h(t.amf) };
}
const flip = (b: Buffer, index: number): Buffer => {
  const copy = Buffer.from(b);
  copy[index] = (copy[index] as number) ^ 0x01;
  return copy;
};

describe('MILENAGE f1..f5* (TS 35.208 test sets)', () => {
  it.each(vectors.testSets.map((t) => [t.name, t] as const))('%s', (_name, t) => {
    expect(computeOpc(h(t.k), h(t.op)).toString('hex')).toBe(t.opc);
    const out = milenage(inputOf(t));
    expect({
      f1: out.macA.toString('hex'), f1star: out.macS.toString('hex'), f2: out.res.toString('hex'),
      f3: out.ck.toString('hex'), f4: out.ik.toString('hex'), f5: out.ak.toString('hex'), f5star: out.akStar.toString('hex'),
    }).toEqual({ f1: t.f1, f1star: t.f1star, f2: t.f2, f3: t.f3, f4: t.f4, f5: t.f5, f5star: t.f5star });
  });
});

describe('USIM AUTN check and re-synchronisation (TS 33.102 §6.3)', () => {
  it.each(vectors.testSets.map((t) => [t.name, t] as const))('accepts a fresh AUTN: %s', (_name, t) => {
    const autn = buildAutn(inputOf(t));
    expect(autn.subarray(6, 8).toString('hex')).toBe(t.amf);
    expect(autn.subarray(8).toString('hex')).toBe(t.f1);
    const result = verifyAutn({ k: h(t.k), opc: h(t.opc), rand: h(t.rand), autn, sqnMs: Buffer.alloc(6) });
    expect(result.kind).toBe('ok');
    if (result.kind !== 'ok') return;
    expect(result.res.toString('hex')).toBe(t.f2);
    expect(result.ck.toString('hex')).toBe(t.f3);
    expect(result.ik.toString('hex')).toBe(t.f4);
    expect(result.sqn.toString('hex')).toBe(t.sqn);
  });

  it.each(vectors.auts.map((a) => [a.name, a] as const))('network recovers SQN_MS from AUTS: %s', (_name, a) => {
    const sqnMs = resyncSqnFromAuts({ k: h(a.k), opc: h(a.opc), rand: h(a.rand), auts: h(a.auts) });
    if (a.sqnMs) expect(sqnMs.toString('hex')).toBe(a.sqnMs);
  });

  it('a sync failure produces an AUTS the network accepts, carrying SQN_MS', () => {
    const t = vectors.testSets[0]!;
    const sqnMs = h('ffffffffff00');
    const result = verifyAutn({ k: h(t.k), opc: h(t.opc), rand: h(t.rand), autn: buildAutn(inputOf(t)), sqnMs });
    expect(result.kind).toBe('sync_failure');
    if (result.kind !== 'sync_failure') return;
    expect(resyncSqnFromAuts({ k: h(t.k), opc: h(t.opc), rand: h(t.rand), auts: result.auts }).equals(sqnMs)).toBe(true);
  });

  it.each(vectors.negative.map((n) => [n.name, n] as const))('refuses: %s', (_name, n) => {
    if (n.k !== undefined) {
      const t = vectors.testSets[0]!;
      expect(errorCode(() => milenage({ ...inputOf(t), k: h(n.k!) }))).toBe(n.expect);
      return;
    }
    if (n.auts !== undefined) {
      const a = vectors.auts[n.auts]!;
      const auts = flip(h(a.auts), n.flipAutsByte!);
      expect(errorCode(() => resyncSqnFromAuts({ k: h(a.k), opc: h(a.opc), rand: h(a.rand), auts }))).toBe(n.expect);
      return;
    }
    const t = vectors.testSets[n.set!]!;
    let autn = buildAutn(inputOf(t));
    if (n.flipAutnByte !== undefined) autn = flip(autn, n.flipAutnByte);
    const result = verifyAutn({ k: h(t.k), opc: h(t.opc), rand: h(t.rand), autn, sqnMs: h(n.sqnMs!) });
    expect(result.kind).toBe(n.expect);
  });

  it('rejects malformed lengths with typed errors', () => {
    const t = vectors.testSets[0]!;
    const base = { k: h(t.k), opc: h(t.opc), rand: h(t.rand), sqnMs: Buffer.alloc(6) };
    expect(errorCode(() => verifyAutn({ ...base, autn: Buffer.alloc(15) }))).toBe('ERR_CRYPTO_INVALID_LENGTH');
    expect(errorCode(() => milenage({ ...inputOf(t), sqn: Buffer.alloc(5) }))).toBe('ERR_CRYPTO_INVALID_LENGTH');
    expect(errorCode(() => computeOpc(h(t.k), Buffer.alloc(15)))).toBe('ERR_CRYPTO_INVALID_LENGTH');
  });
});
