/**
 * The one HTTP call of the CLI: `POST {baseUrl}{path}` with a JSON body and the MNO's `X-API-Key`
 * (docs/services.md "HTTP binding"; a `GET` for the inventory's list, cli/inventory.ts). A processed
 * call is HTTP 200 — or 401 without credential — with a `{ header: { functionExecutionStatus } }` body;
 * anything else is a transport error.
 */
import { RspError } from '@rsp/errors';
import { parse, responseHeader, type FunctionExecutionStatus } from '@rsp/contracts';

/** A call that did not produce an SGP.02 response: unreachable service, timeout, non-JSON answer. */
export class CliTransportError extends RspError {
  static override readonly code = 'ERR_CLI_TRANSPORT';
}

export interface PostOptions {
  apiKey?: string;
  /** POST (every SGP.02 function) unless told; GET for the inventory's lists (no body). */
  method?: 'GET' | 'POST';
  /** An owner's consent token (docs/owner-registry.md), sent as `X-Owner-Consent`. */
  ownerConsent?: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

export interface ServiceAnswer {
  httpStatus: number;
  /** The parsed response body as received. */
  body: Record<string, unknown>;
  status: FunctionExecutionStatus;
}

/** Joins a base URL (with or without a trailing slash or a path prefix) and `/gsma/…` (or `/mno/…?query`). */
export function endpointUrl(baseUrl: string, path: string): URL {
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    throw new CliTransportError(`invalid service URL ${JSON.stringify(baseUrl)}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new CliTransportError(`service URL must be http(s): ${baseUrl}`);
  const [pathname = '', query] = path.split('?', 2); // the inventory's list takes its filters as a query
  base.pathname = `${base.pathname.replace(/\/+$/, '')}${pathname}`;
  if (query !== undefined) base.search = query;
  return base;
}

/** Duck-typed: fetch errors may come from another realm (jest's vm), where `instanceof Error` fails. */
function networkReason(error: unknown): string {
  const { name, message, cause } = (typeof error === 'object' && error !== null ? error : {}) as { name?: unknown; message?: unknown; cause?: unknown };
  if (name === 'TimeoutError') return 'timed out';
  const { code, message: causeMessage } = (typeof cause === 'object' && cause !== null ? cause : {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string') return code;
  if (typeof causeMessage === 'string' && causeMessage) return causeMessage;
  return typeof message === 'string' ? message : String(error);
}

export async function postFunction(url: URL, body: unknown, options: PostOptions): Promise<ServiceAnswer> {
  const method = options.method ?? 'POST';
  const headers: Record<string, string> = { accept: 'application/json', ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) };
  if (options.apiKey) headers['x-api-key'] = options.apiKey;
  if (options.ownerConsent) headers['x-owner-consent'] = options.ownerConsent;
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  let text: string;
  try {
    response = await doFetch(url, { method, headers, ...(method === 'POST' ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(options.timeoutMs) });
    text = await response.text();
  } catch (error) {
    const reason = networkReason(error);
    const detail = reason === 'timed out' ? `no answer within ${options.timeoutMs / 1000} s` : reason;
    throw new CliTransportError(`cannot call ${url.origin}${url.pathname}: ${detail}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const header = typeof parsed === 'object' && parsed !== null ? (parsed as { header?: unknown }).header : undefined;
  try {
    const { functionExecutionStatus } = parse(responseHeader, header);
    return { httpStatus: response.status, body: parsed as Record<string, unknown>, status: functionExecutionStatus };
  } catch {
    throw new CliTransportError(
      `unexpected answer from ${url.origin}${url.pathname}: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}, no SGP.02 function execution status`,
    );
  }
}
