/**
 * `npx rsp es2 download-profiles --profile-type T [--enable] (--eids-file F | --eids-from URL)
 * [--concurrency N] [--run-id ID] [--report out.jsonl]`: ES2.DownloadProfile (SGP.02 §3.1, §5.3) on many
 * eUICCs, N calls in flight, for a device maker or a test suite that provisions a fleet (docs/cli.md).
 *
 * - Each call is the one `npx rsp es2 download-profile` sends, validated by the same contract before it
 *   leaves, with `functionCallIdentifier` = `{run-id}-{eid}`. Running the same run id again therefore
 *   replays the calls that finished (the SM-DP answers a repeat with its first result, SGP.02 §5.1) and
 *   downloads only to the eUICCs still without an answer: an interrupted run is resumed, never doubled.
 * - One eUICC's failure does not stop the others: each outcome (status, SGP.02 codes, ICCID, time) goes to
 *   the report, one JSON line per eUICC; failures are also printed, one line each.
 * - The summary: how many of each status, the failures by code, the rate, and p50 / p99 of a call.
 * - Exit code: 0 when every call executed, 2 if one failed, 3 if one expired and none failed, 1 if a call
 *   had no SGP.02 answer (unreachable, timed out) or on a usage error.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { RspError } from '@rsp/errors';
import { readUserFile } from './files';
import { CliTransportError, endpointUrl, postFunction } from './http';
import { EXIT, describeStatusCode } from './output';
import { es2DownloadProfile } from './requests';

/** A bad EID list or option: one line naming it, exit 1. */
export class BulkUsageError extends RspError {
  static override readonly code = 'ERR_CLI_BULK_USAGE';
}

export interface BulkDownloadOptions {
  smdpUrl: string;
  apiKey: string | undefined;
  requester: string;
  smsrId: string;
  profileType: string;
  enable: boolean;
  eids: readonly string[];
  concurrency: number;
  runId: string;
  validity?: number;
  timeoutMs: number;
  /** A progress line (stderr), about once a second and at the end. */
  progress: (text: string) => void;
  fetch?: typeof fetch;
}

export interface BulkOutcome {
  eid: string;
  functionCallIdentifier: string;
  /** `Executed-Success`, `Executed-WithWarning`, `Failed`, `Expired`, or `no-answer` (transport). */
  status: string;
  /** The first status code, `8.2.1/3.7`, with its text. */
  code?: string;
  iccid?: string;
  /** Why a call had no SGP.02 answer. */
  error?: string;
  ms: number;
}

const EID_PATTERN = /^\d{32}$/;

/** The EIDs of a file: one per line, blank lines and `#` comments skipped, each checked, duplicates refused. */
export function eidsFromText(text: string, source: string): string[] {
  const eids: string[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    if (!EID_PATTERN.test(line)) throw new BulkUsageError(`${source} line ${index + 1}: not an EID (32 digits): ${JSON.stringify(line.slice(0, 40))}`);
    if (seen.has(line)) throw new BulkUsageError(`${source} line ${index + 1}: EID ${line} listed twice`);
    seen.add(line);
    eids.push(line);
  });
  if (eids.length === 0) throw new BulkUsageError(`${source}: no EID in it`);
  return eids;
}

export function eidsFromFile(path: string): string[] {
  return eidsFromText(readUserFile(path, (message) => new BulkUsageError(message)), path);
}

/** Every device of a device API (`GET /devices`, docs/device-api.md): npm start's, or a fleet's of `npm run sim`. */
export async function eidsFromDeviceApi(baseUrl: string, doFetch: typeof fetch = fetch): Promise<string[]> {
  const eids: string[] = [];
  for (let offset = 0; ; offset += 100) {
    const url = `${baseUrl.replace(/\/+$/, '')}/devices?offset=${offset}&limit=100`;
    let page: { total?: unknown; devices?: Array<{ eid?: unknown }> };
    try {
      const response = await doFetch(url, { signal: AbortSignal.timeout(10_000) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      page = (await response.json()) as typeof page;
    } catch (error) {
      throw new CliTransportError(`cannot list the devices at ${url}: ${(error as Error).message}`);
    }
    const devices = Array.isArray(page.devices) ? page.devices : [];
    for (const device of devices) if (typeof device.eid === 'string' && EID_PATTERN.test(device.eid)) eids.push(device.eid);
    if (devices.length === 0 || typeof page.total !== 'number' || offset + devices.length >= page.total) break;
  }
  if (eids.length === 0) throw new BulkUsageError(`the device API at ${baseUrl} lists no device`);
  return eids;
}

/** Runs the downloads, `concurrency` in flight; returns every outcome in the order of `eids`. */
export async function bulkDownload(options: BulkDownloadOptions): Promise<{ outcomes: BulkOutcome[]; seconds: number }> {
  const outcomes: BulkOutcome[] = new Array(options.eids.length);
  const started = performance.now();
  let next = 0;
  let finished = 0;
  let failed = 0;
  let lastReport = started;
  const report = (force: boolean): void => {
    const now = performance.now();
    if (!force && now - lastReport < 1000) return;
    lastReport = now;
    const rate = finished / Math.max((now - started) / 1000, 0.001);
    options.progress(`download-profiles ${finished}/${options.eids.length} answered, ${failed} not executed, ${rate.toFixed(1)} /s`);
  };
  const worker = async (): Promise<void> => {
    while (next < options.eids.length) {
      const index = next++;
      outcomes[index] = await downloadOne(options, options.eids[index] as string);
      finished += 1;
      if (!outcomes[index].status.startsWith('Executed')) failed += 1;
      report(false);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.eids.length) }, worker));
  report(true);
  return { outcomes, seconds: (performance.now() - started) / 1000 };
}

async function downloadOne(options: BulkDownloadOptions, eid: string): Promise<BulkOutcome> {
  const callId = `${options.runId}-${eid}`;
  const request = es2DownloadProfile(
    { eid, smsrId: options.smsrId, profileType: options.profileType, enable: options.enable },
    { requester: options.requester, callId, ...(options.validity !== undefined ? { validity: options.validity } : {}) },
  );
  const started = performance.now();
  try {
    const answer = await postFunction(endpointUrl(options.smdpUrl, request.path), request.body, {
      apiKey: options.apiKey,
      timeoutMs: options.timeoutMs,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    const ms = Math.round(performance.now() - started);
    const code = answer.status.statusCodeData;
    const iccid = answer.body.iccid;
    return {
      eid,
      functionCallIdentifier: callId,
      status: answer.status.status,
      ...(code ? { code: describeStatusCode(code) } : {}),
      ...(typeof iccid === 'string' ? { iccid } : {}),
      ms,
    };
  } catch (error) {
    if (!(error instanceof CliTransportError)) throw error;
    return { eid, functionCallIdentifier: callId, status: 'no-answer', error: error.message, ms: Math.round(performance.now() - started) };
  }
}

/** The nearest-rank percentile (NaN of nothing); the provisioning bench's too. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

/** The summary's lines: outcomes by status, failures by code, rate and latency. */
export function summaryLines(outcomes: readonly BulkOutcome[], seconds: number): string[] {
  const byStatus = new Map<string, number>();
  const byCode = new Map<string, number>();
  for (const outcome of outcomes) {
    byStatus.set(outcome.status, (byStatus.get(outcome.status) ?? 0) + 1);
    if (!outcome.status.startsWith('Executed')) {
      const key = outcome.code ?? outcome.error ?? outcome.status;
      byCode.set(key, (byCode.get(key) ?? 0) + 1);
    }
  }
  const times = outcomes.map((outcome) => outcome.ms);
  const lines = [
    `${outcomes.length} eUICCs: ${[...byStatus].map(([status, count]) => `${count} ${status}`).join(', ')}`,
    `${(outcomes.length / Math.max(seconds, 0.001)).toFixed(1)} calls/s over ${seconds.toFixed(1)} s; a call p50 ${percentile(times, 50)} ms, p99 ${percentile(times, 99)} ms`,
  ];
  for (const [code, count] of [...byCode].sort((a, b) => b[1] - a[1])) lines.push(`  ${String(count).padStart(5)} × ${code}`);
  return lines;
}

/** 0 when every call executed; 1 if one had no answer; else 2 if one failed, 3 if one expired. */
export function bulkExitCode(outcomes: readonly BulkOutcome[]): number {
  let code: number = EXIT.OK;
  for (const outcome of outcomes) {
    if (outcome.status === 'no-answer') return EXIT.USAGE_OR_TRANSPORT;
    if (outcome.status === 'Failed') code = EXIT.FAILED;
    else if (outcome.status === 'Expired' && code === EXIT.OK) code = EXIT.EXPIRED;
  }
  return code;
}

/** The command's own options (the global ones come in beside them). */
export interface BulkCommandOptions {
  profileType: string;
  enable?: boolean;
  eidsFile?: string;
  eidsFrom?: string;
  concurrency: number;
  runId?: string;
  report?: string;
  smsrId: string;
}

/** `npx rsp es2 download-profiles`: reads the EIDs, runs the calls, writes the report and the summary; returns the exit code. */
export async function runDownloadProfiles(
  options: BulkCommandOptions & { smdpUrl: string; apiKey?: string; requester: string; validity?: number; timeoutMs: number; json: boolean },
  io: { stdout: (text: string) => void; stderr: (text: string) => void; fetch?: typeof fetch },
): Promise<number> {
  if ((options.eidsFile === undefined) === (options.eidsFrom === undefined)) throw new BulkUsageError('name the eUICCs with --eids-file or --eids-from (one of them)');
  const eids = options.eidsFile !== undefined ? eidsFromFile(options.eidsFile) : await eidsFromDeviceApi(options.eidsFrom as string, io.fetch);
  const runId = options.runId ?? `bulk-${Date.now().toString(36)}`;
  io.stderr(`download-profiles: ${eids.length} eUICCs, ${options.concurrency} in flight, run id ${runId} (the same --run-id again resumes this run)\n`);
  const { outcomes, seconds } = await bulkDownload({
    smdpUrl: options.smdpUrl,
    apiKey: options.apiKey,
    requester: options.requester,
    smsrId: options.smsrId,
    profileType: options.profileType,
    enable: options.enable === true,
    eids,
    concurrency: options.concurrency,
    runId,
    ...(options.validity !== undefined ? { validity: options.validity } : {}),
    timeoutMs: options.timeoutMs,
    progress: (text) => io.stderr(`${text}\n`),
    ...(io.fetch ? { fetch: io.fetch } : {}),
  });
  if (options.report) writeFileSync(resolve(options.report), `${outcomes.map((outcome) => JSON.stringify(outcome)).join('\n')}\n`);
  const line = (text: string): void => io.stdout(`${text}\n`);
  if (options.json) line(JSON.stringify({ runId, seconds, outcomes }, null, 2));
  else {
    for (const outcome of outcomes) if (!outcome.status.startsWith('Executed')) line(`${outcome.status}  ${outcome.eid}  ${outcome.code ?? outcome.error ?? ''}`.trimEnd());
    summaryLines(outcomes, seconds).forEach(line);
  }
  return bulkExitCode(outcomes);
}
