/**
 * Where the main thread's time goes, in the buckets issue 11 and docs/performance.md use: a V8 CPU profile
 * (`BENCH_PROFILE=file.cpuprofile npm run bench -- provisioning`) folded by the self time of each sample's
 * function into one bucket, then divided by the provisionings measured. A sample is attributed by the
 * first rule its frame matches (file path, then function name), so the table adds up to the profile.
 *
 * `npx tsx bench/profile-buckets.ts file.cpuprofile [provisionings]` prints the table for a saved profile.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
/** The parts of a V8 CPU profile (inspector Profiler.Profile) read here. */
interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

/** Bucket rules, first match wins: [bucket, test on the frame's url, optional test on its function name]. */
const RULES: ReadonlyArray<[string, RegExp, RegExp?]> = [
  ['GC', /^$/, /^\(garbage collector\)$/],
  ['idle', /^$/, /^\((idle|program)\)$/],
  ['profiler start', /^$/, /^dispatch$/],
  ['EC (ECDSA, ECDH, key pairs)', /^$/, /^(computeSecret|generateKeyPair.*|sign|verify|oneShot.*|Sign|Verify|ECDH|keyDetail|export|createPublicKey|createPrivateKey)$/],
  ['AES / CMAC', /^$/, /^(initiv|update|final|CipherBase|init)$/],
  ['AES / CMAC', /libs\/crypto\/src\/(aes|cmac|scp03|kdf)|node:internal\/crypto\/cipher/],
  ['EC (ECDSA, ECDH, key pairs)', /libs\/crypto\/src\/(ec|ecdh|ecdsa)|node:internal\/crypto\/(sig|diffiehellman|keys|keygen)/],
  ['SQLite (better-sqlite3)', /^$/, /^(run|all|get|prepare|exec|iterate)$/],
  ['SQLite (better-sqlite3)', /better-sqlite3/],
  ['PostgreSQL (pg)', /node_modules\/pg(-[a-z]+)?\//],
  ['TypeORM', /node_modules\/typeorm\//],
  ['persistence (libs/persistence)', /libs\/persistence\//],
  ['MQTT (mqtt.js, aedes, packets, TLS, sockets)', /node_modules\/(mqtt|mqtt-packet|aedes[^/]*|bl|qlobber|reinterval|hyperid|fastfall|fastparallel|fastseries|retimer|uuid|mqemitter[^/]*)\/|libs\/mqtt-transport\/|node:(net|tls|_tls_wrap|internal\/stream_base_commons|internal\/streams|stream|internal\/tls)/],
  ['MQTT (mqtt.js, aedes, packets, TLS, sockets)', /^$/, /^(writev|writeUtf8String|writeBuffer|writeLatin1String|readStop|readStart|onStreamRead)$/],
  ['card simulator (libs/card, simulator)', /libs\/card\/|simulator\/src\//],
  ['HTTP / Nest / Express / fetch', /node_modules\/(@nestjs|express|body-parser|router|raw-body|on-finished|finalhandler|send|content-type|path-to-regexp|qs)\/|node:_http|node:http|undici|node:internal\/webstreams|node:internal\/deps\/undici/],
  ['AsyncLocalStorage / async_hooks', /node:(internal\/)?async_hooks/],
  ['SAIP / TLV / contracts (encode, parse, validate)', /libs\/(saip|tlv|contracts)\//],
  ['PKI (certificates, chains)', /libs\/pki\/|node_modules\/(@peculiar|asn1js|pvtsutils|pvutils)\//],
  ['services (apps/)', /apps\//],
  ['JSON, buffers, timers, promises (Node core)', /^node:/],
  ['other (native)', /^$/],
];

/** Native frames that are a bucket of their own (GC, idle, the profiler's start), whoever runs when they come. */
const NATIVE_OWN_BUCKET = /^(\((garbage collector|idle|program|root)\)|dispatch)$/;

export interface BucketRow {
  bucket: string;
  ms: number;
}

/** Self time per bucket (ms per provisioning), largest first; `idle` and the profiler start left out. */
export function profileBuckets(profile: CpuProfile, provisionings: number): { rows: BucketRow[]; totalMs: number } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const ruleFor = (frame: ProfileNode['callFrame']): string | undefined => {
    const url = frame.url.replace(/^file:\/\//, '');
    return RULES.find(([, file, name]) => file.test(url) && (name === undefined || name.test(frame.functionName)))?.[0];
  };
  // A native frame (no url: `run`, `computeSecret`, `writev` …) counts in its nearest JavaScript caller's
  // bucket: `run` is better-sqlite3's statement and a crypto job's (ECDSA) alike. GC, idle and native
  // frames with no JavaScript caller keep the name rules.
  const bucketOf = (id: number): string => {
    const frame = (byId.get(id) as ProfileNode).callFrame;
    if (frame.url === '' && !NATIVE_OWN_BUCKET.test(frame.functionName)) {
      for (let caller = parentOf.get(id); caller !== undefined; caller = parentOf.get(caller)) {
        const callerFrame = (byId.get(caller) as ProfileNode).callFrame;
        if (callerFrame.url !== '') return ruleFor(callerFrame) ?? 'other';
      }
    }
    return ruleFor(frame) ?? 'other';
  };
  const memo = new Map<number, string>();
  const perBucket = new Map<string, number>();
  (profile.samples ?? []).forEach((id, index) => {
    if (!byId.has(id)) return;
    let bucket = memo.get(id);
    if (bucket === undefined) memo.set(id, (bucket = bucketOf(id)));
    perBucket.set(bucket, (perBucket.get(bucket) ?? 0) + (profile.timeDeltas?.[index] ?? 0) / 1000);
  });
  perBucket.delete('idle');
  perBucket.delete('profiler start');
  const rows = [...perBucket].map(([bucket, ms]) => ({ bucket, ms: ms / provisionings })).sort((a, b) => b.ms - a.ms);
  return { rows, totalMs: rows.reduce((sum, row) => sum + row.ms, 0) };
}

export function printBuckets(profile: CpuProfile, provisionings: number): void {
  const { rows, totalMs } = profileBuckets(profile, provisionings);
  console.log(`\nmain thread, self time per provisioning (${provisionings} provisionings, sampled):`);
  console.log('| bucket | ms | share |');
  console.log('|---|---:|---:|');
  for (const row of rows) console.log(`| ${row.bucket} | ${row.ms.toFixed(2)} | ${((100 * row.ms) / totalMs).toFixed(0)} % |`);
  console.log(`| **total** | **${totalMs.toFixed(2)}** | |`);
}

if (process.argv[1]?.endsWith('profile-buckets.ts')) {
  const [file, count] = process.argv.slice(2);
  if (!file) throw new Error('usage: tsx bench/profile-buckets.ts file.cpuprofile [provisionings]');
  printBuckets(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(count ?? 1));
}
