/**
 * The operator console (docs/console.md): a small HTTP server started by the stack that serves a static
 * page and relays the page's calls to the SM-DP (`/api/smdp/…`) and the SM-SR (`/api/smsr/…`), so the
 * page talks to one origin under a strict CSP (`connect-src 'self'`) and the services need no CORS.
 *
 * It holds no credential: the operator's MNO API key comes with each call (`X-API-Key`, kept by the page
 * in sessionStorage) and the SM-DP / SM-SR check it exactly as for ES2 / ES4. The relay forwards only
 * GETs and ES2/ES4 POSTs on an allow-list of paths, with an allow-list of headers; it logs nothing of a
 * request but its method, path and status.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ID_PATTERN } from '@rsp/contracts';
import { es3CallIds, spliceCardHops, type HopLike } from './splice-hops';

export interface ConsoleOptions {
  port: number;
  host?: string;
  /** Base URLs of the services the console relays to. */
  smdpUrl: string;
  smsrUrl: string;
  /** Renders a transaction's hops as SVG (libs/sequence), when available. */
  renderSequence?: (hops: unknown[]) => string;
}

export interface ConsoleHandle {
  url: string;
  close(): Promise<void>;
}

/** CSP Level 3: nothing inline, one origin; diagrams are blob: images made by the page from SVG text. */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "connect-src 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ');

const STATIC: Record<string, { file: string; type: string }> = {
  '/console': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console/console.js': { file: 'console.js', type: 'text/javascript; charset=utf-8' },
  '/console/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
};

/** A functionCallIdentifier in a path: the one id alphabet of @rsp/contracts (ID_PATTERN, without its anchors). */
const CALL_ID = ID_PATTERN.source.replace(/^\^|\$$/g, '');
const TRANSACTIONS = new RegExp(`^/transactions(/${CALL_ID}(/events)?)?$`);
const SEQUENCE = new RegExp(`^/api/sequence/(${CALL_ID})\\.(svg|json)$`);

/** What the page may reach through the relay: reads, and the ES2 / ES4 functions themselves. */
const RELAYED: Array<{ service: 'smdp' | 'smsr'; method: 'GET' | 'POST'; path: RegExp }> = [
  { service: 'smsr', method: 'GET', path: /^\/mno\/fleet(\/\d{32}(\/events)?)?$/ },
  { service: 'smsr', method: 'POST', path: /^\/gsma\/es4\/(getEIS|auditEIS|enableProfile|disableProfile|deleteProfile)$/ },
  { service: 'smdp', method: 'POST', path: /^\/gsma\/es2\/(getEIS|downloadProfile|enableProfile|disableProfile|deleteProfile)$/ },
  { service: 'smdp', method: 'GET', path: TRANSACTIONS },
  { service: 'smsr', method: 'GET', path: TRANSACTIONS },
  { service: 'smdp', method: 'GET', path: /^\/mno\/notifications$/ },
  { service: 'smsr', method: 'GET', path: /^\/mno\/notifications$/ },
];
const FORWARDED_HEADERS = ['x-api-key', 'x-owner-consent', 'content-type', 'accept'];
const MAX_BODY_BYTES = 64 * 1024;

const security = (response: ServerResponse, contentType: string) => {
  response.setHeader('Content-Type', contentType);
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('Referrer-Policy', 'no-referrer');
  response.setHeader('Content-Security-Policy', CONSOLE_CSP);
  response.setHeader('X-Frame-Options', 'DENY');
  response.setHeader('Cache-Control', 'no-store');
};

function fail(response: ServerResponse, status: number, code: string, message: string): void {
  security(response, 'application/json; charset=utf-8');
  response.statusCode = status;
  response.end(JSON.stringify({ error: { code, message } }));
}

async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function startConsole(options: ConsoleOptions): Promise<ConsoleHandle> {
  const files = new Map(Object.entries(STATIC).map(([path, { file, type }]) => [path, { body: readFileSync(new URL(`./static/${file}`, import.meta.url)), type }]));
  const bases = { smdp: options.smdpUrl.replace(/\/+$/, ''), smsr: options.smsrUrl.replace(/\/+$/, '') };
  const open = new Set<AbortController>();

  async function relay(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const [, , service, ...rest] = url.pathname.split('/');
    const path = `/${rest.join('/')}`;
    const method = request.method === 'POST' ? 'POST' : 'GET';
    const rule = RELAYED.find((candidate) => candidate.service === service && candidate.method === request.method && candidate.path.test(path));
    if (!rule) return fail(response, 404, 'ERR_CONSOLE_NOT_RELAYED', 'not a console call');
    const headers: Record<string, string> = {};
    for (const name of FORWARDED_HEADERS) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const body = method === 'POST' ? await readBody(request) : undefined;
    if (method === 'POST' && body === undefined) return fail(response, 413, 'ERR_CONSOLE_BODY_TOO_LARGE', `at most ${MAX_BODY_BYTES} bytes`);
    const abort = new AbortController();
    open.add(abort);
    request.on('close', () => abort.abort());
    try {
      const upstream = await fetch(`${bases[rule.service]}${path}${url.search}`, { method, headers, signal: abort.signal, ...(body ? { body } : {}) });
      security(response, upstream.headers.get('content-type') ?? 'application/octet-stream');
      response.statusCode = upstream.status;
      response.flushHeaders();
      if (!upstream.body) return void response.end();
      for await (const chunk of upstream.body) response.write(chunk);
      response.end();
    } catch {
      if (!response.headersSent) fail(response, 502, 'ERR_CONSOLE_UPSTREAM', `the ${service === 'smdp' ? 'SM-DP' : 'SM-SR'} cannot be reached`);
      else response.end();
    } finally {
      open.delete(abort);
    }
  }

  /**
   * `GET /api/sequence/{id}.svg[?service=smdp|smsr]`: a transaction's hops (the caller's key) drawn by
   * libs/scenario; `.json`: the same hops as `{ hops }`, for the page's list. An SM-DP transaction goes
   * down to the eUICC: below each of its ES3 calls go the scripts the SM-SR ran for it, read from the SM-SR
   * with the same key (splice-hops.ts); the SM-SR shows an MNO only the ES3 calls serving its profiles.
   */
  async function sequence(request: IncomingMessage, response: ServerResponse, id: string, service: 'smdp' | 'smsr', format: 'svg' | 'json'): Promise<void> {
    if (format === 'svg' && !options.renderSequence) return fail(response, 404, 'ERR_CONSOLE_NO_RENDERER', 'sequence diagrams are not available');
    const apiKey = request.headers['x-api-key'];
    const headers: Record<string, string> = typeof apiKey === 'string' ? { 'x-api-key': apiKey } : {};
    const read = async (base: string, callId: string): Promise<HopLike[] | undefined> => {
      const upstream = await fetch(`${base}/transactions/${encodeURIComponent(callId)}`, { headers });
      if (!upstream.ok) return undefined;
      const transaction = (await upstream.json()) as { hops?: unknown };
      return Array.isArray(transaction.hops) ? (transaction.hops as HopLike[]) : [];
    };
    const upstream = await fetch(`${bases[service]}/transactions/${encodeURIComponent(id)}`, { headers });
    if (!upstream.ok) return fail(response, upstream.status, 'ERR_CONSOLE_NO_TRANSACTION', 'no such transaction of yours');
    const transaction = (await upstream.json()) as { hops?: unknown };
    let hops: HopLike[] = Array.isArray(transaction.hops) ? (transaction.hops as HopLike[]) : [];
    if (service === 'smdp') {
      // A call the SM-SR does not show (not found, unreachable) is drawn without its card hops.
      const below = await Promise.all(es3CallIds(hops).map(async (callId) => [callId, (await read(bases.smsr, callId).catch(() => undefined)) ?? []] as const));
      hops = spliceCardHops(hops, new Map(below));
    }
    if (format === 'json' || !options.renderSequence) {
      security(response, 'application/json; charset=utf-8');
      return void response.end(JSON.stringify({ hops }));
    }
    security(response, 'image/svg+xml; charset=utf-8');
    response.end(options.renderSequence(hops));
  }

  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://console.invalid');
    const file = request.method === 'GET' ? files.get(url.pathname) : undefined;
    if (file) {
      security(response, file.type);
      return void response.end(file.body);
    }
    if (url.pathname === '/') {
      response.statusCode = 302;
      response.setHeader('Location', '/console');
      return void response.end();
    }
    const drawn = SEQUENCE.exec(url.pathname);
    const service = url.searchParams.get('service') === 'smsr' ? 'smsr' : 'smdp';
    const work =
      drawn && request.method === 'GET'
        ? sequence(request, response, drawn[1] as string, service, drawn[2] === 'json' ? 'json' : 'svg')
        : url.pathname.startsWith('/api/')
          ? relay(request, response, url)
          : Promise.resolve(fail(response, 404, 'ERR_CONSOLE_NOT_FOUND', 'no such page'));
    work.catch(() => {
      if (!response.headersSent) fail(response, 500, 'ERR_CONSOLE_INTERNAL', 'the console failed');
      else response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port, options.host ?? '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/console`,
    close: async () => {
      for (const abort of open) abort.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
