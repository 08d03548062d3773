/**
 * The services' log for a person at a terminal (`RSP_LOG_FORMAT=text`, or `auto` when stdout is one): the
 * same pino records as the JSON lines, after redaction, each on one line that reads left to right:
 *
 *     22:50:48.296 sm-sr          info  request completed  POST /gsma/es1/registerEIS → 200 in 31 ms  functionCallIdentifier=register-…
 *
 * The request's headers are left out (they are in the JSON lines, redacted); every other field is kept as
 * `name=value`. A line that is not a JSON record is printed as it came.
 */
import type { DestinationStream } from 'pino';

export type LogFormat = 'json' | 'text';

const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const FORMATS = ['auto', 'json', 'text'] as const;

/** RSP_LOG_FORMAT, validated like RSP_LOG_LEVEL: `auto` (the default) is `text` on a terminal, else `json`. */
export function logFormatFrom(value: string | undefined, terminal: boolean): LogFormat {
  if (value === undefined || value === '' || value === 'auto') return terminal ? 'text' : 'json';
  if (value === 'json' || value === 'text') return value;
  throw new Error(`RSP_LOG_FORMAT must be one of ${FORMATS.join(', ')} (got "${value.slice(0, 20)}")`);
}

/** A pino destination writing each record as a text line to `out`. */
export function textLogDestination(out: { write(text: string): unknown }): DestinationStream {
  return { write: (line: string) => void out.write(`${formatLogLine(line)}\n`) };
}

/** One pino JSON line as text (see the header). */
export function formatLogLine(line: string): string {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return line.trimEnd();
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return line.trimEnd();
  const { time, level, service, msg, req, res, responseTime, err, ...rest } = record as Record<string, unknown>;
  const parts = [
    typeof time === 'string' ? time.slice(11, 23) : '',
    String(service ?? '').padEnd(14),
    (LEVEL_NAMES[Number(level)] ?? String(level ?? '')).padEnd(5),
    String(msg ?? ''),
  ];
  const request = req as { method?: unknown; url?: unknown } | undefined;
  if (request?.method !== undefined) {
    const status = (res as { statusCode?: unknown } | undefined)?.statusCode;
    parts.push(`${String(request.method)} ${String(request.url ?? '')}${status !== undefined ? ` → ${String(status)}` : ''}${typeof responseTime === 'number' ? ` in ${responseTime} ms` : ''}`);
  }
  const error = err as { type?: unknown; message?: unknown } | undefined;
  if (error?.message !== undefined) parts.push(`${String(error.type ?? 'Error')}: ${String(error.message)}`);
  for (const [name, value] of Object.entries(rest)) parts.push(`${name}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
  return parts.join('  ').trimEnd();
}
