/**
 * `rsp mno stock` and `rsp mno subscriptions`: the MNO's subscriber records at the SM-DP
 * (`POST` / `GET {smdp}/mno/subscriptions`, the inventory API beside ES2; not an SGP.02 function).
 *
 * Generated records carry Ki and OPc in clear, once, like an HSS provisioning file (the SM-DP keeps them
 * sealed and never shows them again). So `--generate` needs `--out`: the file is created before anything
 * is sent (exclusive create, mode 600; an existing file is never overwritten, as it may hold the only
 * copy of earlier keys), the records go there, and stdout and `--json` show them without Ki and OPc.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { SUBSCRIPTION_STATES } from '@rsp/contracts';
import type { ServiceAnswer } from './http';
import type { BuiltRequest } from './requests';

/** Most records one `--generate` asks the SM-DP for. */
export const MAX_GENERATE = 10_000;

/** A local problem the user can fix (bad file, bad option): one line, exit 1. */
export class InventoryUsageError extends Error {}

export interface StockInput {
  profileType: string;
  generate?: string;
  iccidPrefix?: string;
  imsiPrefix?: string;
  out?: string;
  file?: string;
}

interface SubscriberRecord {
  iccid: string;
  imsi: string;
  ki: string;
  opc: string;
}

/** What the SM-DP's answer turns into: the JSON `--json` prints and the human lines (secrets left out of both). */
export interface Presented {
  body: Record<string, unknown>;
  lines?: string[];
}

/** An inventory request: GET or POST, and how its answer is shown once it is in. */
export interface InventoryRequest extends BuiltRequest {
  method: 'GET' | 'POST';
  present(answer: ServiceAnswer): Presented;
  /** Called when no answer came (transport error): undoes what preparing the request did. */
  abandon?(): void;
}

const isSuccess = (answer: ServiceAnswer) => answer.status.status.startsWith('Executed');

/**
 * `rsp mno stock --profile-type T (--generate N [--iccid-prefix P] [--imsi-prefix P] --out FILE | --file FILE)`.
 * The prefixes and the records themselves are the SM-DP's to check (1.6 / 2.1 naming the field).
 */
export function mnoStock(input: StockInput): InventoryRequest {
  if ((input.generate === undefined) === (input.file === undefined)) throw new InventoryUsageError('give --generate <count> (with --out <file>) or --file <records.json>');
  if (input.file !== undefined) {
    if (input.out !== undefined || input.iccidPrefix !== undefined || input.imsiPrefix !== undefined) throw new InventoryUsageError('--out, --iccid-prefix and --imsi-prefix go with --generate, not --file');
    const subscriptions = readRecords(input.file);
    return {
      interface: 'es2',
      functionName: 'stock',
      path: '/mno/subscriptions',
      method: 'POST',
      body: { profileType: input.profileType, subscriptions },
      present: (answer) => ({
        body: answer.body,
        ...(isSuccess(answer) ? { lines: [`${answer.status.status}  stock  ${subscriptions.length} subscriptions of type ${input.profileType} loaded`] } : {}),
      }),
    };
  }
  const count = Number(input.generate);
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_GENERATE) throw new InventoryUsageError(`--generate takes a count from 1 to ${MAX_GENERATE}`);
  if (input.out === undefined) throw new InventoryUsageError('generated records carry Ki and OPc, shown once: give --out <file> (created with mode 600, never overwritten)');
  const out = resolve(input.out);
  const descriptor = createSecretFile(out);
  let written = false;
  const release = () => {
    closeSync(descriptor);
    if (!written) rmSync(out, { force: true }); // nothing came back: no empty key file left behind
  };
  return {
    interface: 'es2',
    functionName: 'stock',
    path: '/mno/subscriptions',
    method: 'POST',
    body: { profileType: input.profileType, generate: count, ...(input.iccidPrefix ? { iccidPrefix: input.iccidPrefix } : {}), ...(input.imsiPrefix ? { imsiPrefix: input.imsiPrefix } : {}) },
    present(answer) {
      const records = Array.isArray(answer.body.subscriptions) ? (answer.body.subscriptions as SubscriberRecord[]) : [];
      try {
        if (isSuccess(answer) && records.length > 0) {
          writeSync(descriptor, `${JSON.stringify(records.map(({ iccid, imsi, ki, opc }) => ({ iccid, imsi, ki, opc })), null, 2)}\n`);
          written = true;
        }
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        // Said plainly: the SM-DP holds the records now, and their keys are nowhere the CLI can show them.
        throw new InventoryUsageError(`the SM-DP generated ${records.length} records but ${out} could not be written${typeof code === 'string' ? ` (${code})` : ''}: their Ki and OPc were not kept`);
      } finally {
        release();
      }
      const withoutKeys = records.map(({ iccid, imsi }) => ({ iccid, imsi }));
      if (!written) return { body: records.length > 0 ? { ...answer.body, subscriptions: withoutKeys } : answer.body }; // never a key on stdout
      const iccids = records.map((record) => record.iccid).sort();
      return {
        body: { ...answer.body, subscriptions: withoutKeys, keysFile: out },
        lines: [
          `${answer.status.status}  stock  ${records.length} subscriptions of type ${input.profileType} generated, ICCID ${iccids[0]} … ${iccids[iccids.length - 1]}`,
          `  Ki and OPc of each in ${out} (mode 600): the SM-DP will not show them again`,
        ],
      };
    },
    abandon: release,
  };
}

/** `rsp mno subscriptions [--state S] [--profile-type T]`: the MNO's records, without secrets (the SM-DP sends none). */
export function mnoSubscriptions(input: { state?: string; profileType?: string }): InventoryRequest {
  if (input.state !== undefined && !(SUBSCRIPTION_STATES as readonly string[]).includes(input.state)) {
    throw new InventoryUsageError(`--state is one of ${SUBSCRIPTION_STATES.join(', ')}`);
  }
  const query = new URLSearchParams({ ...(input.state ? { state: input.state } : {}), ...(input.profileType ? { profileType: input.profileType } : {}) }).toString();
  return {
    interface: 'es2',
    functionName: 'subscriptions',
    path: `/mno/subscriptions${query ? `?${query}` : ''}`,
    method: 'GET',
    body: undefined,
    present(answer) {
      if (!isSuccess(answer)) return { body: answer.body };
      const rows = (Array.isArray(answer.body.subscriptions) ? answer.body.subscriptions : []) as Array<Record<string, string | undefined>>;
      const byState = SUBSCRIPTION_STATES.map((state) => [state, rows.filter((row) => row.state === state).length] as const).filter(([, n]) => n > 0);
      const summary = rows.length === 0 ? 'none' : `${rows.length} (${byState.map(([state, n]) => `${state} ${n}`).join(', ')})`;
      const line = (row: Record<string, string | undefined>) =>
        `  ${[row.iccid, row.state, `type ${row.profileType}`, `imsi ${row.imsi}`, row.eid ? `eid ${row.eid}` : undefined, row.isdpAid ? `isd-p ${row.isdpAid}` : undefined].filter(Boolean).join('  ')}`;
      return { body: answer.body, lines: [`${answer.status.status}  subscriptions  ${summary}`, ...rows.map(line)] };
    },
  };
}

/** A records file: a JSON array of `{ iccid, imsi, ki, opc }`, or `{ "subscriptions": [...] }` (what --out writes is the array). */
function readRecords(path: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(resolve(path), 'utf8'));
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new InventoryUsageError(typeof code === 'string' ? `cannot read ${path} (${code})` : `${path} is not valid JSON`);
  }
  const records = Array.isArray(parsed) ? parsed : (parsed as { subscriptions?: unknown } | null)?.subscriptions;
  if (!Array.isArray(records) || records.length === 0) throw new InventoryUsageError(`${path}: expected a non-empty JSON array of { iccid, imsi, ki, opc } (or { "subscriptions": [...] })`);
  return records;
}

/** Exclusive create with mode 600: refuses an existing file (it may hold the only copy of earlier keys). */
function createSecretFile(path: string): number {
  try {
    return openSync(path, 'wx', 0o600);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'EEXIST') throw new InventoryUsageError(`${path} exists: generated keys never overwrite a file (it may hold earlier ones); choose another --out`);
    throw new InventoryUsageError(`cannot create ${path}${typeof code === 'string' ? ` (${code})` : ''}`);
  }
}
