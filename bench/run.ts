/**
 * `npm run bench [-- SUITE ...]`: prints throughput figures and ratios; asserts nothing.
 * Suites: crypto, fleet (BENCH_FLEET_SIZES, BENCH_FLEET_MQTT=1), transport (service requests over aedes).
 * provisioning (full ES2 downloads with enable: --devices, --concurrency, --warmup, --stack embedded|mosquitto-postgres, --sqlite memory|files, --sweep).
 * es5-session (one ES5 session on one card, both ends in this process: BENCH_ES5_SESSIONS, BENCH_ES5_WARMUP).
 * user-path (npm start, a fleet beside it and the CLI's download-profiles, each in a process of its own: --devices, --concurrency, --passes, --type).
 * owner-status (one device's first signed status, fetched from the owner registry and verified: --statuses, --rounds).
 * BENCH_MS sets the time budget per measurement (default 700 ms).
 */
import { cpus } from 'node:os';
import { runCryptoBench } from './crypto';
import { runEs5SessionBench } from './es5-session';
import { runFleetBench } from './fleet';
import { runOwnerStatusBench } from './owner-status';
import { runProvisioningBench } from './provisioning';
import { runTransportBench } from './transport';
import { runUserPathBench } from './user-path';

const SUITES: Record<string, () => void | Promise<void>> = {
  crypto: runCryptoBench,
  fleet: runFleetBench,
  transport: runTransportBench,
  provisioning: runProvisioningBench,
  'es5-session': runEs5SessionBench,
  'user-path': runUserPathBench,
  'owner-status': runOwnerStatusBench,
};

// Suite names, among the suites' own options (`--devices 40` …): a bare word after an option is its value.
const args = process.argv.slice(2);
const words = args.filter((arg, i) => !arg.startsWith('-') && !(args[i - 1]?.startsWith('--') && !(arg in SUITES)));
const names = words.length > 0 ? words : ['crypto']; // fleet takes a minute: ask for it by name
const unknown = names.filter((n) => !(n in SUITES));
if (unknown.length > 0) {
  console.error(`unknown bench suite(s): ${unknown.join(', ')}; known: ${Object.keys(SUITES).join(', ')}`);
  process.exit(2);
}
console.log(`# bench — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`);
for (const name of names) await SUITES[name]?.();
