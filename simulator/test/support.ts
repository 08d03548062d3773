/**
 * Test support for the simulator: cards manufactured from one real test PKI, and a STUB command table
 * (tests only) so transport tests do not depend on the card handlers being written in libs/card.
 */
import { verifyAutn } from '@rsp/crypto';
import { MemoryCardStore, enabledIsdp, manufactureFromTestPki, ok, queueNotification, type CardState, type CommandHandler } from '@rsp/card';
import { CardError } from '@rsp/offcard';
import { generateTestPki, type TestPki } from '@rsp/pki';
import { decodeDgis, decodeTlvs, findTlv } from '@rsp/tlv';
import { CardPool } from '../src/card-host';
import type { FaultPlanRunner } from '../src/faults';

let cachedPki: TestPki | undefined;
export function testPki(): TestPki {
  cachedPki ??= generateTestPki({ curve: 'P-256', euiccCount: 3 });
  return cachedPki;
}

export const BOOTSTRAP = {
  iccid: '8949001234567890126',
  imsi: '262019876543210',
  ki: Buffer.from('465b5ce8b199b49faa5f0a2ee238a6bc', 'hex'),
  opc: Buffer.from('cd63cb71954a9f4e48a5994e37a02baf', 'hex'),
};

export function cardState(index = 0): CardState {
  return manufactureFromTestPki(testPki(), index, { bootstrapProfile: BOOTSTRAP, now: new Date('2026-01-01T00:00:00Z') });
}

const is = (ins: number, p1?: number) => (apdu: { ins: number; p1: number }) => apdu.ins === ins && (p1 === undefined || apdu.p1 === p1);

/** STUB rows (tests only): GET DATA 5A, 3A08 acknowledge, queue a notification, refuse INS EE, USIM AKA. */
export const STUB_COMMANDS: CommandHandler[] = [
  { name: 'stub GET DATA EID', spec: 'test stub', app: 'any', secured: false, matches: is(0xca), handle: (ctx) => ok(Buffer.from(ctx.state.eid, 'hex')) },
  {
    name: 'stub HandleNotificationConfirmation',
    spec: 'test stub of SGP.02 3A08',
    app: 'any',
    secured: false,
    matches: is(0xe2, 0x89),
    handle: (ctx, apdu) => {
      const dgi = decodeDgis(apdu.data).find((d) => d.dgi === 0x3a08); // STORE DATA P1 b5-b4 = 01: DGI format
      const seqTlv = findTlv(decodeTlvs(dgi?.value ?? Buffer.alloc(0)), 0x4e);
      if (!seqTlv) throw new CardError.IncorrectData('no 4E');
      const seq = seqTlv.value.readUInt16BE(0);
      const pending = ctx.state.notifications.pending;
      const index = pending.findIndex((n) => n.seq === seq);
      if (index < 0) throw new CardError.ReferencedDataNotFound('unknown seq');
      pending.splice(index, 1);
      ctx.emit({ type: 'notification-acknowledged', seq });
      return ok();
    },
  },
  { name: 'stub queue notification', spec: 'test stub', app: 'any', secured: false, matches: is(0xe2, 0x88), handle: (ctx) => (queueNotification(ctx, 0x02), ok()) },
  { name: 'stub refuse', spec: 'test stub', app: 'any', secured: false, matches: is(0xee), handle: () => { throw new CardError.IncorrectData('refused'); } },
  { name: 'stub step', spec: 'test stub', app: 'any', secured: false, matches: is(0xef), handle: (ctx) => (ctx.step('stub:step'), (ctx.state.imei = '01'), ok()) },
  { name: 'stub SELECT', spec: 'test stub', app: 'any', secured: false, matches: is(0xa4), handle: (ctx) => ((ctx.volatile.selected = 'usim'), ok()) },
  {
    name: 'stub AUTHENTICATE',
    spec: 'test stub of TS 31.102 §7.1.2',
    app: 'usim',
    secured: false,
    matches: is(0x88),
    handle: (ctx, apdu) => {
      const profile = enabledIsdp(ctx.state)?.profile;
      if (!profile) throw new CardError.ConditionsNotSatisfied('no profile');
      const rand = apdu.data.subarray(1, 17);
      const autn = apdu.data.subarray(18, 34);
      const k = Buffer.from(profile.ki, 'hex');
      const opc = Buffer.from(profile.opc, 'hex');
      const result = verifyAutn({ k, opc, rand, autn, sqnMs: Buffer.from(profile.sqnMs, 'hex') });
      if (result.kind === 'mac_failure') return { data: Buffer.alloc(0), sw: 0x9862 };
      if (result.kind === 'sync_failure') return ok(Buffer.concat([Buffer.of(0xdc, 14), result.auts]));
      profile.sqnMs = result.sqn.toString('hex');
      return ok(Buffer.concat([Buffer.of(0xdb, 8), result.res, Buffer.of(16), result.ck, Buffer.of(16), result.ik]));
    },
  },
];

export function stubPool(count = 1, options: { faults?: FaultPlanRunner } = {}): { pool: CardPool; eids: string[] } {
  const pool = new CardPool({ store: new MemoryCardStore(), commands: STUB_COMMANDS, ...options });
  const eids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const state = cardState(i);
    pool.add(state);
    eids.push(state.eid);
  }
  return { pool, eids };
}

export function waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (predicate()) return resolve();
      if (Date.now() - start > timeoutMs) return reject(new Error('timed out waiting'));
      setTimeout(tick, 10);
    };
    tick();
  });
}
