/**
 * `npm run bench -- provisioning [--devices N] [--concurrency C] [--warmup N] [--rounds R]
 *   [--stack embedded|mosquitto-postgres] [--sqlite memory|files] [--sweep] [--cards worker|main] [--broker worker|main] [--ab] [--owners]`: the virtual
 *   cards and the embedded broker each run on a worker thread of their own by default (as the devices and a
 *   broker are other machines), and the CPU per provisioning is split between the services, the cards and
 *   the broker. The MNO that calls ES2 (the bench's load) runs on a thread of its own too (mno-client.ts);
 *   its CPU is printed apart, never counted as the services'.
 *
 * Full provisionings — ES2 DownloadProfile with enable: reserve, GetEIS, ECASD chain check, CreateISDP,
 * Scenario#3, SCP03t download and install, enable, notification; each on a card never contacted before, so
 * the ISD-R handover is included — through the whole stack (scripts/stack.ts), with TLS identities and the
 * broker ACL as in production. Asserts nothing; prints figures from one run:
 *
 * - warm figures: warm-up rounds first (connections, caches, and above all V8's JIT: until some 2000
 *   provisionings have run, TurboFan is still compiling and re-optimising the stack's long tail of functions,
 *   at 1–3 ms of CPU per provisioning on V8's helper threads), then `--devices` provisionings with `--concurrency` in
 *   flight: provisionings/s and CPU ms per provisioning, split between the services' thread, V8's helper
 *   threads (GC, JIT; shared by every thread's isolate), the cards and the broker; `--warmup N` sets the
 *   number of warm-up provisionings (default 2000; docs/performance.md round eight), and their curve is
 *   printed; `--rounds R` (default 3) measured rounds, every one listed, the table showing the median;
 * - ES5 scripts and broker messages per provisioning, counted on the wire by a monitor identity;
 * - the EC floor: the elliptic-curve work one first provisioning cannot avoid, timed in the same run, and
 *   the CPU per provisioning as a ratio to it;
 * - with `--sweep`: throughput and p99 for concurrency 1 … 200, an SVG plot in bench/out/, and p50 / p99 of
 *   the ES2 call under an open load of half the peak rate;
 * - with `--ab`: instead of the table, two variants of the code compared round by round in this process
 *   (ab.ts; `--rounds` defaults to 40 there): how a change worth a few per cent is judged on this host;
 * - with `--timeline`: instead of the table, 21 warm provisionings alone, message by message (the median
 *   of each gap), and whose work their latency is made of (timeline.ts).
 *
 * `BENCH_PROFILE=file.cpuprofile` records the main thread during the measured run and prints where its
 * time goes, by bucket (profile-buckets.ts); `BENCH_HEAP=file.heapprofile` samples what it allocates, by
 * function (heap-sampling.ts); `BENCH_SQL_TRACE=1` lists the first provisioning's statements; `BENCH_SQL_TIME=1`
 * times SQLite's statements in the measured rounds, by text (sql-timing.ts).
 *
 * `--sqlite files` keeps the embedded stack's SQLite databases in files of a temporary directory (WAL), as
 * `npm start` does, instead of in memory: what the disk's writes cost.
 *
 * `--owners` turns the owner-identity binding on, as `npm start` has it: the owner registry runs beside the
 * services, and the SM-DP and the SM-SR each fetch a device's signed status from it (`GET
 * /device-status/{eid}`) and verify it before acting on the device (docs/owner-registry.md). Without it
 * the services enforce no owner, as a stack started without `owners` does.
 *
 * `--stack mosquitto-postgres` starts a private Mosquitto with the shipped configuration (set_tcp_nodelay
 * true) on a free port and uses PostgreSQL (RSP_TEST_DATABASE_URL or the local default).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { TOPIC_ROOT } from '@rsp/contracts';
import { connectMqtt, threadCpuMs } from '@rsp/mqtt-transport';
import { sqlStatementCount, traceSqlStatements } from '@rsp/persistence';
import { generateTestPki } from '@rsp/pki';
import { STACK_PRINCIPALS, stackPrincipals, startStack, type Stack, type StackOptions } from '../scripts/stack';
import { startSecureMosquitto } from '../test/support/brokers';
import { measureEcFloor } from './ec-floor';
import { MnoClientThread } from './mno-client';
import { latencyPlotSvg } from './plot';
import { percentile } from '../cli/bulk-download';
import { alternatingRounds, printAb } from './ab';
import { options, preparedStatementsSetting } from './provisioning-options';
import { cpuBetween, OutsideCpuMeter, processContextSwitches, threadSyscalls, type OutsideCpu } from './host-cpu';
import { printAllocations, startHeapSampling, stopHeapSampling } from './heap-sampling';
import { printBuckets } from './profile-buckets';
import { warmupCurve, type WarmRound } from './warmup-curve';
import { printSqliteTiming, startSqliteTiming } from './sql-timing';
import { timelineLines, type TimelineRun, type WireMessage } from './timeline';

const SMSR_ID = 'smsr.bench';
const SMDP_ID = 'smdp.bench';
const SWEEP = [1, 2, 5, 10, 20, 50, 100, 200];
/** `--timeline`'s lone provisionings (each about 40–60 ms, then 100 ms for its notifications). */
const TIMELINE_RUNS = 21;

/** BENCH_SQL_TRACE=1: the statements of the first provisioning, grouped by text, most frequent first. */
function printSqlTrace(statements: readonly string[]): void {
  const counts = new Map<string, number>();
  for (const statement of statements) {
    const text = statement.replace(/\s+/g, ' ').slice(0, 160);
    counts.set(text, (counts.get(text) ?? 0) + 1);
  }
  console.log(`\n${statements.length} SQL statements in the first provisioning:`);
  if (process.env.BENCH_SQL_TRACE === 'sequence') {
    for (const statement of statements) console.log(`      ${statement.replace(/\s+/g, ' ').slice(0, 150)}`);
    return;
  }
  for (const [text, count] of [...counts].sort((a, b) => b[1] - a[1])) console.log(`${String(count).padStart(4)}  ${text}`);
}

/** Runs one provisioning per card with at most `inFlight` at a time (a closed loop), from the MNO client's thread. */
async function closedLoop(stack: Stack, client: MnoClientThread, eids: readonly string[], inFlight: number, outside?: OutsideCpuMeter) {
  const outsideBefore = outside?.read();
  const switchesBefore = processContextSwitches();
  const syscallsBefore = threadSyscalls(); // the services' thread (the main one)
  const cpuBefore = process.cpuUsage();
  const mainBefore = threadCpuMs(); // the services' loop runs on the main thread
  const cardsBefore = await cardThreadsCpuMs(stack);
  const brokerBefore = await brokerThreadCpuMs(stack);
  const loopBefore = performance.eventLoopUtilization();
  const started = performance.now();
  const { results, cpuMs: clientMs } = await client.closedLoop(eids, inFlight);
  const seconds = (performance.now() - started) / 1000;
  const loop = performance.eventLoopUtilization(loopBefore); // the services' loop (the client has its own thread)
  const cpu = process.cpuUsage(cpuBefore);
  const mainAfter = threadCpuMs();
  const cardsAfter = await cardThreadsCpuMs(stack);
  const brokerAfter = await brokerThreadCpuMs(stack);
  const others = outside && outsideBefore ? cpuBetween(outsideBefore, outside.read()) : {};
  const switchesAfter = processContextSwitches();
  const syscallsAfter = threadSyscalls();
  const ok = results.filter((result) => result.status === 'Executed-Success').length;
  const per = (ms: number): number => ms / Math.max(1, eids.length);
  // The process minus the bench's MNO client thread: the client is the load, not the system measured.
  const processMs = (cpu.user + cpu.system) / 1000 - (clientMs ?? 0);
  // With the cards (and the broker) on threads of their own: services = the rest (GC helpers included).
  const cardsMs = cardsBefore !== undefined && cardsAfter !== undefined ? cardsAfter - cardsBefore : undefined;
  const brokerMs = brokerBefore !== undefined && brokerAfter !== undefined ? brokerAfter - brokerBefore : undefined;
  return {
    ok,
    total: eids.length,
    seconds,
    rate: ok / seconds,
    cpuMs: per(processMs),
    ...(clientMs !== undefined ? { clientMs: per(clientMs) } : {}),
    ...(cardsMs !== undefined
      ? {
          split: {
            servicesMs: per(processMs - cardsMs - (brokerMs ?? 0)),
            ...(mainBefore !== undefined && mainAfter !== undefined ? { mainMs: per(mainAfter - mainBefore) } : {}),
            cardsMs: per(cardsMs),
            ...(brokerMs !== undefined ? { brokerMs: per(brokerMs) } : {}),
          },
        }
      : {}),
    outside: Object.fromEntries(Object.entries(others).map(([key, ms]) => [key, per(ms)])) as OutsideCpu,
    loop: { busy: loop.utilization, activeMs: per(loop.active) },
    ...(switchesBefore && switchesAfter
      ? { switches: { voluntary: per(switchesAfter.voluntary - switchesBefore.voluntary), involuntary: per(switchesAfter.involuntary - switchesBefore.involuntary) } }
      : {}),
    ...(syscallsBefore && syscallsAfter ? { syscalls: { reads: per(syscallsAfter.reads - syscallsBefore.reads), writes: per(syscallsAfter.writes - syscallsBefore.writes) } } : {}),
    latencies: results.map((result) => result.ms),
  };
}

/** CPU ms used so far by the broker thread; undefined with the broker on the services' thread, elsewhere, or off Linux. */
async function brokerThreadCpuMs(stack: Stack): Promise<number | undefined> {
  const broker = stack.broker;
  return broker && 'cpuMs' in broker ? broker.cpuMs() : undefined;
}

/** CPU ms used so far by the stack's card threads together; undefined without card threads or off Linux. */
async function cardThreadsCpuMs(stack: Stack): Promise<number | undefined> {
  if (stack.cardThreads.length === 0) return undefined;
  const readings = await Promise.all(stack.cardThreads.map((thread) => thread.cpuMs()));
  return readings.every((ms) => ms !== undefined) ? readings.reduce<number>((sum, ms) => sum + (ms ?? 0), 0) : undefined;
}

/** `--timeline`: lone provisionings on a warm stack, one after another, every broker message as a read-only monitor receives it. */
async function printTimeline(stack: Stack, client: MnoClientThread, eids: readonly string[]): Promise<void> {
  const monitor = await connectMqtt({ url: stack.mqttUrl, credentials: stack.credentialsFor(STACK_PRINCIPALS.monitor) });
  let messages: WireMessage[] = [];
  monitor.on('message', (topic, payload, packet) => {
    if (!packet.retain) messages.push({ at: performance.timeOrigin + performance.now(), topic, bytes: payload.length });
  });
  await monitor.subscribeAsync(`${TOPIC_ROOT}/#`, { qos: 1 });
  const runs: TimelineRun[] = [];
  for (const eid of eids) {
    messages = [];
    const [call] = (await client.closedLoop([eid], 1)).results;
    await new Promise((resolve) => setTimeout(resolve, 100)); // the notifications after the answer
    if (!call) throw new Error('a timeline provisioning gave no result');
    runs.push({ messages, call: { sentAt: call.sentAt, answeredAt: call.sentAt + call.ms, status: call.status } });
  }
  await monitor.endAsync();
  console.log('');
  for (const line of timelineLines(runs, { smdpId: SMDP_ID, smsrId: SMSR_ID })) console.log(line);
}

/** Starts one provisioning every 1/rate s (an open loop), whatever the answers do; returns the latencies. */
async function openLoop(client: MnoClientThread, eids: readonly string[], rate: number) {
  const { results } = await client.openLoop(eids, rate);
  return { latencies: results.map((result) => result.ms), ok: results.filter((result) => result.status === 'Executed-Success').length };
}

export async function runProvisioningBench(): Promise<void> {
  const o = options();
  const pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
  const apiKey = randomBytes(16).toString('hex');
  const warmup = o.warmup;
  const sweepCards = o.sweep ? SWEEP.reduce((sum, c) => sum + Math.max(2 * c, 20), 0) + 2 * Math.max(o.devices, 100) : 0;
  const cards = warmup + (o.timeline ? TIMELINE_RUNS : o.devices * o.rounds) + 1 + sweepCards;
  // options() allows --sqlite files with the embedded stack only.
  const sqliteDir = o.sqlite === 'files' ? mkdtempSync(join(tmpdir(), 'rsp-bench-')) : undefined;
  // Removed when the process ends, however it ends (a stack that fails to start included).
  if (sqliteDir) process.once('exit', () => rmSync(sqliteDir, { recursive: true, force: true }));
  const stackOptions: StackOptions = {
    pki,
    ids: { smsrId: SMSR_ID, smdpId: SMDP_ID },
    database:
      o.stack === 'embedded'
        ? sqliteDir
          ? { kind: 'sqlite', dir: sqliteDir }
          : { kind: 'sqlite-memory' }
        : {
            kind: 'postgres',
            url: process.env.RSP_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
            schemaPrefix: `bench_${randomBytes(3).toString('hex')}_`,
            // RSP_DATABASE_PREPARED_STATEMENTS=0 (the services' own setting and check): every statement unnamed.
            ...(preparedStatementsSetting() ? {} : { preparedStatements: false as const }),
          },
    mnos: [{ mnoId: 'mno.bench', apiKey }],
    devices: [{ model: 'generic', count: cards, firstSerial: 50_000_000, thread: o.cards }],
    brokerThread: o.broker === 'worker',
    // No maker registers the cards: each gets the registry's signed "not registered" status (version 0).
    ...(o.owners ? { owners: { registryUrl: 'https://owners.bench.test', makers: [] } } : {}),
  };
  const setupStart = performance.now();
  const mosquitto = o.stack === 'mosquitto-postgres' ? await startSecureMosquitto({ principals: stackPrincipals(stackOptions), pki }) : undefined;
  const stack = await startStack({ ...stackOptions, ...(mosquitto ? { mqttUrl: mosquitto.url } : {}) });
  const mosquittoPid = mosquitto?.pid();
  const outside = new OutsideCpuMeter({ ...(mosquittoPid !== undefined ? { mosquittoPid } : {}), postgres: o.stack === 'mosquitto-postgres' });
  // The MNO, the bench's load, calls ES2 from a thread of its own (mno-client.ts).
  const client = await MnoClientThread.start({ smdpUrl: stack.smdp.httpUrl, apiKey, mnoId: 'mno.bench', smsrId: SMSR_ID, profileType: 'bench' });
  try {
    const post = (path: string, body: unknown) =>
      fetch(`${stack.smdp.httpUrl}/mno/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': apiKey }, body: JSON.stringify(body) });
    await post('profileTypes', { name: 'bench' });
    await post('subscriptions', { profileType: 'bench', generate: cards, iccidPrefix: '8949777' });
    const where = o.cards === 'worker' ? 'cards on a worker thread' : 'cards on the services\' thread';
    const brokerWhere = o.stack !== 'embedded' ? '' : o.broker === 'worker' ? ', broker on a worker thread' : ', broker on the services\' thread';
    const stackName = `${o.stack === 'embedded' ? `aedes + SQLite ${sqliteDir ? 'in files (WAL)' : 'in memory'}, one process` : 'Mosquitto (shipped configuration, set_tcp_nodelay) + PostgreSQL'}, ${where}${brokerWhere}`;
    console.log(`\n## provisioning — ${stackName}; TLS identities and the broker ACL on${o.owners ? '; the owner binding on (each device\'s signed status fetched and verified)' : ''}`);
    console.log(`set-up ${((performance.now() - setupStart) / 1000).toFixed(1)} s: ${cards} cards, ${cards} subscriptions`);

    const eids = [...stack.eids];
    const take = (count: number) => eids.splice(0, count);

    // The wire, as a read-only monitor sees it, for one provisioning alone: ES5 scripts and all messages.
    const monitor = await connectMqtt({ url: stack.mqttUrl, credentials: stack.credentialsFor(STACK_PRINCIPALS.monitor) });
    const seen = { es5: 0, messages: 0 };
    monitor.on('message', (topic, _payload, packet) => {
      if (packet.retain) return; // the retained presence of every card, sent on subscribing: not this provisioning's
      seen.messages += 1;
      if (topic.endsWith('/es5/cmd')) seen.es5 += 1;
    });
    await monitor.subscribeAsync(`${TOPIC_ROOT}/#`, { qos: 1 });
    const [first] = take(1);
    const sqlBefore = sqlStatementCount();
    const stopTrace = process.env.BENCH_SQL_TRACE ? traceSqlStatements() : undefined;
    const [alone = { status: 'none', ms: Number.NaN }] = (await client.closedLoop([first as string], 1)).results;
    await new Promise((resolve) => setTimeout(resolve, 300)); // the notifications and outbox rounds after the answer
    const sqlStatements = sqlStatementCount() - sqlBefore;
    if (stopTrace) printSqlTrace(stopTrace());
    await monitor.endAsync();

    // Warm-up rounds, not part of the figures; printed, as V8's JIT shows in them (see the header).
    const warmRounds: WarmRound[] = [];
    for (let left = warmup; left > 0; left -= o.concurrency) {
      const round = await closedLoop(stack, client, take(Math.min(left, o.concurrency)), o.concurrency);
      warmRounds.push({ provisionings: round.total, seconds: round.seconds, servicesMs: round.split?.servicesMs ?? round.cpuMs });
    }
    if (warmRounds.length > 0) console.log(`warm-up, ${warmup} provisionings in rounds of ${o.concurrency}, ${warmupCurve(warmRounds)}`);

    if (o.timeline) {
      await printTimeline(stack, client, take(TIMELINE_RUNS));
      return;
    }

    if (o.ab) {
      // `--ab`: the measured rounds alternate two variants of the code; only their comparison is printed.
      const by = await alternatingRounds(o.rounds, async () => {
        const round = await closedLoop(stack, client, take(o.devices), o.concurrency, outside);
        return {
          ok: round.ok,
          total: round.total,
          rate: round.rate,
          cpuMs: round.cpuMs,
          ...(round.split?.mainMs !== undefined ? { servicesThreadMs: round.split.mainMs } : {}),
          ...(round.outside.hostMs !== undefined ? { hostMs: round.outside.hostMs } : {}),
          ...(round.syscalls ? { writeSyscalls: round.syscalls.writes } : {}),
        };
      });
      printAb(by);
      return;
    }

    // BENCH_PROFILE=file.cpuprofile records a CPU profile of the measured phase only.
    const inspector = process.env.BENCH_PROFILE ? new Session() : undefined;
    if (inspector) {
      inspector.connect();
      await inspector.post('Profiler.enable');
      await inspector.post('Profiler.setSamplingInterval', { interval: 200 }); // µs: enough samples for the buckets
      await inspector.post('Profiler.start');
    }
    // BENCH_HEAP=file.heapprofile samples the measured phase's allocations (heap-sampling.ts).
    const heap = process.env.BENCH_HEAP ? new Session() : undefined;
    if (heap) {
      heap.connect();
      await startHeapSampling(heap);
    }
    // BENCH_SQL_TIME=1 times SQLite's statements in the measured phase (sql-timing.ts; embedded stack).
    const stopSqlTiming = process.env.BENCH_SQL_TIME && o.stack === 'embedded' ? startSqliteTiming() : undefined;
    // `--rounds R` measured rounds of `--devices` each: the table shows the median round (by rate), and
    // every round's figures are listed, so one run shows how much the host moved while it ran.
    const sqlBeforeWarm = sqlStatementCount();
    const measured: Array<Awaited<ReturnType<typeof closedLoop>>> = [];
    for (let round = 0; round < o.rounds; round += 1) measured.push(await closedLoop(stack, client, take(o.devices), o.concurrency, outside));
    const measuredCount = o.devices * o.rounds;
    const sqlWarm = (sqlStatementCount() - sqlBeforeWarm) / measuredCount;
    const byRate = [...measured].sort((a, b) => a.rate - b.rate);
    const warm = byRate[Math.floor((byRate.length - 1) / 2)] as (typeof measured)[number];
    if (inspector && process.env.BENCH_PROFILE) {
      const { profile } = await inspector.post('Profiler.stop');
      writeFileSync(process.env.BENCH_PROFILE, JSON.stringify(profile));
      inspector.disconnect();
      printBuckets(profile, measuredCount);
    }
    if (stopSqlTiming) printSqliteTiming(stopSqlTiming(), measuredCount);
    if (heap && process.env.BENCH_HEAP) {
      const profile = await stopHeapSampling(heap);
      writeFileSync(process.env.BENCH_HEAP, JSON.stringify(profile));
      heap.disconnect();
      printAllocations(profile, measuredCount);
    }
    const floor = measureEcFloor(pki);

    if (measured.length > 1) {
      const each = measured.map((round) => `${round.rate.toFixed(1)} /s ${round.cpuMs.toFixed(1)} ms${round.split?.mainMs !== undefined ? ` (services' thread ${round.split.mainMs.toFixed(1)})` : ''}`);
      console.log(`measured rounds of ${o.devices} (rate, CPU per provisioning): ${each.join(' · ')}; the table shows the median round\n`);
    }
    console.log('| figure | value |');
    console.log('|---|---:|');
    console.log(`| the first provisioning after start, alone (a cold card, and V8 not yet warm: before the warm-up) | ${alone.ms.toFixed(0)} ms (${alone.status}) |`);
    console.log(`| ${o.devices} provisionings, ${o.concurrency} in flight (after ${warmup} warm-up${measured.length > 1 ? `; median of ${measured.length} rounds` : ''}) | ${warm.rate.toFixed(1)} /s (${warm.ok}/${warm.total} Executed-Success, ${warm.seconds.toFixed(2)} s) |`);
    console.log(`| CPU per provisioning, services and cards together (one process, the bench's MNO client left out) | ${warm.cpuMs.toFixed(1)} ms |`);
    if (warm.split) {
      console.log(`| … of which the services (the process minus the card${warm.split.brokerMs !== undefined ? ', broker' : ''} and MNO client threads) | ${warm.split.servicesMs.toFixed(1)} ms |`);
      if (warm.split.mainMs !== undefined) {
        console.log(`| … … the services' thread (their JavaScript, the database driver, TLS) | ${warm.split.mainMs.toFixed(1)} ms |`);
        console.log(`| … … V8's and libuv's helper threads (GC, JIT, for every thread's isolate) | ${(warm.split.servicesMs - warm.split.mainMs).toFixed(1)} ms |`);
      }
      console.log(`| … of which the cards (their worker thread, /proc/thread-self) | ${warm.split.cardsMs.toFixed(1)} ms |`);
      if (warm.split.brokerMs !== undefined) console.log(`| … of which the broker (its worker thread) | ${warm.split.brokerMs.toFixed(1)} ms |`);
    }
    // Busy beyond the thread's CPU = runnable but not running (the other threads had the cores) or in a
    // syscall that waited; near 100 % the services' thread, not the host's cores, bounds the rate.
    console.log(`| the services' event loop: busy share of the round (ELU), busy ms per provisioning | ${(warm.loop.busy * 100).toFixed(0)} %, ${warm.loop.activeMs.toFixed(1)} ms |`);
    const other = warm.outside;
    if (other.mosquittoMs !== undefined) console.log(`| the private Mosquitto (its process, /proc/<pid>/schedstat) | ${other.mosquittoMs.toFixed(1)} ms |`);
    if (other.postgresMs !== undefined) console.log(`| PostgreSQL (every \`postgres\` process on this host: backends, WAL writer) | ${other.postgresMs.toFixed(1)} ms |`);
    const onHost = o.stack === 'embedded' ? 'this process and its MNO client' : 'this process, its MNO client, Mosquitto and PostgreSQL';
    if (other.hostMs !== undefined) console.log(`| the whole host (/proc/stat, 10 ms ticks: ${onHost}, and anything else running) | ${other.hostMs.toFixed(1)} ms${other.stealMs ? ` (+ ${other.stealMs.toFixed(1)} ms stolen by the hypervisor)` : ''} |`);
    if (other.hostMs !== undefined && other.idleMs !== undefined) {
      // Idle while work waits: how far the round is from what two busy cores would give (round seven).
      console.log(`| the cores' idle share of the round (/proc/stat) | ${((100 * other.idleMs) / Math.max(1e-9, other.hostMs + other.idleMs + (other.stealMs ?? 0))).toFixed(0)} % |`);
    }
    if (warm.switches) console.log(`| context switches per provisioning, every thread of this process: voluntary (a thread slept, then was woken) / involuntary (preempted) | ${warm.switches.voluntary.toFixed(1)} / ${warm.switches.involuntary.toFixed(1)} |`);
    if (warm.syscalls) console.log(`| read / write syscalls per provisioning, the services' thread (/proc/thread-self/io) | ${warm.syscalls.reads.toFixed(1)} / ${warm.syscalls.writes.toFixed(1)} |`);
    if (warm.clientMs !== undefined) console.log(`| the bench's MNO client (ES2 over HTTP, its worker thread; not in the figures above) | ${warm.clientMs.toFixed(1)} ms |`);
    console.log(`| latency p50 / p99 in that run | ${percentile(warm.latencies, 50).toFixed(0)} / ${percentile(warm.latencies, 99).toFixed(0)} ms |`);
    console.log(`| ES5 scripts (MQTT round trips to the card) per first provisioning | ${seen.es5} |`);
    console.log(`| broker messages per first provisioning (every hop and notification) | ${seen.messages} |`);
    console.log(`| SQL statements per first provisioning (all services, 300 ms of outbox after the answer) | ${sqlStatements} |`);
    console.log(`| SQL statements per provisioning in the warm run (all statements ÷ ${measuredCount}, polls included) | ${sqlWarm.toFixed(1)} |`);
    console.log(`| EC floor of one first provisioning (node:crypto, this run) | ${floor.ms.toFixed(2)} ms (${floor.operations}) |`);
    console.log(`| CPU per provisioning ÷ EC floor | ${(warm.cpuMs / floor.ms).toFixed(1)}× |`);

    if (o.sweep) {
      const rows: Array<{ concurrency: number; rate: number; p99: number }> = [];
      for (const concurrency of SWEEP) {
        const run = await closedLoop(stack, client, take(Math.max(2 * concurrency, 20)), concurrency);
        rows.push({ concurrency, rate: run.rate, p99: percentile(run.latencies, 99) });
      }
      const peak = Math.max(...rows.map((row) => row.rate));
      const half = await openLoop(client, take(Math.max(o.devices, 100)), peak / 2);
      console.log('\n| concurrency | provisionings/s | p99 latency |');
      console.log('|---:|---:|---:|');
      for (const row of rows) console.log(`| ${row.concurrency} | ${row.rate.toFixed(1)} | ${row.p99.toFixed(0)} ms |`);
      console.log(`\nopen load at half the peak (${(peak / 2).toFixed(1)} /s): ES2 latency p50 ${percentile(half.latencies, 50).toFixed(0)} ms, p99 ${percentile(half.latencies, 99).toFixed(0)} ms (${half.ok}/${half.latencies.length} Executed-Success)`);
      mkdirSync('bench/out', { recursive: true });
      const file = `bench/out/provisioning-${o.stack}.svg`;
      writeFileSync(file, latencyPlotSvg(rows, `provisioning, ${stackName}`));
      console.log(`plot: ${file}`);
    }
  } finally {
    await client.close();
    await stack.close();
    await mosquitto?.close();
  }
}
