/**
 * Where the main thread allocates (`BENCH_HEAP=file.heapprofile npm run bench -- provisioning`): V8's
 * sampling heap profiler over the measured round, objects that GC already collected included (the
 * allocation rate is what costs GC time, on this thread and V8's helpers), folded by allocating
 * function, in KB per provisioning. `npx tsx bench/heap-sampling.ts file.heapprofile N` reads a saved one.
 */
import { readFileSync } from 'node:fs';
import type { Session } from 'node:inspector/promises';

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}
export interface HeapProfile {
  head: HeapNode;
}

/** Starts sampling about every 4 KB allocated, counting what minor and major GCs collect too. */
export async function startHeapSampling(session: Session): Promise<void> {
  await session.post('HeapProfiler.enable');
  // Node 20's typings lack the two include… flags; V8 (11.3) takes them.
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  } as { samplingInterval: number });
}

export async function stopHeapSampling(session: Session): Promise<HeapProfile> {
  const { profile } = await session.post('HeapProfiler.stopSampling');
  return profile as unknown as HeapProfile;
}

/** Allocated KB per provisioning by function (file:line), largest first. */
export function allocationsByFunction(profile: HeapProfile, provisionings: number): Array<{ site: string; kb: number }> {
  const bySite = new Map<string, number>();
  const walk = (node: HeapNode): void => {
    if (node.selfSize > 0) {
      const { functionName, url, lineNumber } = node.callFrame;
      const file = url.replace(/^file:\/\//, '').replace(/.*\/(node_modules|libs|apps|simulator|scripts)\//, '$1/');
      const site = `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
      bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child);
  };
  walk(profile.head);
  return [...bySite].map(([site, bytes]) => ({ site, kb: bytes / 1024 / provisionings })).sort((a, b) => b.kb - a.kb);
}

export function printAllocations(profile: HeapProfile, provisionings: number, top = 25): void {
  const rows = allocationsByFunction(profile, provisionings);
  const total = rows.reduce((sum, row) => sum + row.kb, 0);
  console.log(`\nmain thread, allocated per provisioning (${provisionings} provisionings, sampled, GC-collected included): ${total.toFixed(0)} KB`);
  console.log('| allocating function | KB | share |');
  console.log('|---|---:|---:|');
  for (const row of rows.slice(0, top)) console.log(`| ${row.site} | ${row.kb.toFixed(1)} | ${((100 * row.kb) / total).toFixed(0)} % |`);
}

if (process.argv[1]?.endsWith('heap-sampling.ts')) {
  const [file, count] = process.argv.slice(2);
  if (!file) throw new Error('usage: tsx bench/heap-sampling.ts file.heapprofile [provisionings]');
  printAllocations(JSON.parse(readFileSync(file, 'utf8')) as HeapProfile, Number(count ?? 1), 40);
}
