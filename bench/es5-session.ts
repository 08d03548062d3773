/**
 * `npm run bench -- es5-session`: one ES5 session on one VirtualEuicc, both ends in this process and on
 * this thread, with no broker, database or TLS: SELECT ISD-R, INITIALIZE UPDATE, EXTERNAL AUTHENTICATE at
 * 0x33 (GP CS v2.3 Amd D §7.1) and one secured GET STATUS. A first provisioning opens 9 such sessions.
 *
 * The whole-stack bench (`-- provisioning`) moves ±15 % from one run to the next on a shared host, more
 * than a change to the card or the SCP03 code is worth; this one measures that code alone, in µs per
 * session (wall and the process's CPU, GC included), so two revisions can be told apart (docs/performance.md
 * round five). Figures are printed, never asserted.
 */
import { performance } from 'node:perf_hooks';
import { defaultIsdRKeySet } from '@rsp/offcard';
import { generateTestPki } from '@rsp/pki';
import type { CommandApdu } from '@rsp/tlv';
import { manufactureFromTestPki, MemoryCardStore, VirtualEuicc } from '@rsp/card';
// The card tests' off-card end of ES5: SELECT ISD-R, INITIALIZE UPDATE, EXTERNAL AUTHENTICATE (0x33), then wrap / unwrap.
import { openIsdR } from '../libs/card/test/support/es5';

/** GET STATUS of the ISD-R and the ISD-Ps, TLV format (GP CS v2.3 §11.4). */
const GET_STATUS: CommandApdu = { cla: 0x80, ins: 0xf2, p1: 0x40, p2: 0x02, data: Buffer.from('4f00', 'hex'), le: 256 };
const BOOTSTRAP = { iccid: '8944000000000000009', imsi: '001010000000009', ki: Buffer.alloc(16, 0x11), opc: Buffer.alloc(16, 0x22) };

export function runEs5SessionBench(): void {
  const pki = generateTestPki({ curve: 'P-256', euiccCount: 1 });
  const state = manufactureFromTestPki(pki, 0, { bootstrapProfile: BOOTSTRAP });
  const euicc = VirtualEuicc.manufacture(state, { store: new MemoryCardStore() });
  const keys = defaultIsdRKeySet(state.eid);
  const session = (): void => {
    const status = openIsdR(euicc, keys).send(GET_STATUS);
    if (status.sw !== 0x9000) throw new Error(`GET STATUS answered ${status.sw.toString(16)}`);
  };
  const warmup = Number(process.env.BENCH_ES5_WARMUP ?? 3000);
  const sessions = Number(process.env.BENCH_ES5_SESSIONS ?? 6000);
  for (let i = 0; i < warmup; i += 1) session(); // TurboFan out of the figure (docs/performance-history.md)
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < sessions; i += 1) session();
  const wallUs = ((performance.now() - start) * 1000) / sessions;
  const used = process.cpuUsage(cpu);
  const cpuUs = (used.user + used.system) / sessions;
  console.log(`\n## es5-session (one VirtualEuicc and the off-card side in one process; ${sessions} sessions after ${warmup})`);
  console.log('| figure | value |');
  console.log('|---|---:|');
  console.log(`| one session: SELECT, INITIALIZE UPDATE, EXTERNAL AUTHENTICATE (0x33), one secured GET STATUS | ${wallUs.toFixed(1)} µs |`);
  console.log(`| … the process's CPU (GC and JIT threads included) | ${cpuUs.toFixed(1)} µs |`);
}
