/**
 * The local device API (node:http, default port 8083; docs/device-api.md):
 *
 *   GET  /devices?offset=&limit=          page of { eid, model }
 *   GET  /devices/{eid}                   EID, model, connectivity, enabled ICCID/IMSI, profiles — no secrets
 *   POST /devices/{eid}/connectivity      { wifi?, cellular? } → { connectivity, fallbackTriggered }
 *   POST /devices/{eid}/attach            runs a Milenage AKA through the card → the attach event
 *   GET  /devices/{eid}/events            Server-Sent Events (text/event-stream), one DeviceEvent per event
 *   POST /euicc/{eid}/apdu                { "apdu": "hex" } → { "response": "hex", "sw": "9000" }
 *                                         or application/octet-stream C-APDU → octet-stream R-APDU
 *   GET  /openapi.json                    the OpenAPI 3.0 document of these routes (device-api-openapi.ts)
 *
 * Errors are JSON `{ error: { code, message } }`: 400 bad input, 404 unknown EID / route, 409 when the card
 * lost power (fault plan) and sent nothing, 405 wrong method.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { isRspError, RspError } from '@rsp/errors';
import { PowerLoss } from '@rsp/offcard';
import type { DeviceHandle, DeviceModel } from './device';
import { DEVICE_API_OPENAPI } from './device-api-openapi';

/** What the API needs from a fleet. */
export interface DeviceDirectory {
  readonly size: number;
  list(offset: number, limit: number): Array<{ eid: string; model: DeviceModel }>;
  device(eid: string): DeviceHandle | undefined;
  transmit(eid: string, apdu: Uint8Array): Buffer;
}

export interface DeviceApiOptions {
  port?: number;
  host?: string;
  /** Name of the setting that chose the port, quoted in the "port in use" error (npm start: RSP_SIM_API_PORT). */
  portSetting?: string;
}

export class DeviceApiPortInUseError extends RspError {
  static override readonly code = 'ERR_SIM_API_PORT_IN_USE';
}

export interface DeviceApi {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** An extended C-APDU (65 535 data bytes) as hex in JSON, with room to spare. */
const MAX_BODY_BYTES = 140_000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startDeviceApi(directory: DeviceDirectory, options: DeviceApiOptions = {}): Promise<DeviceApi> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    route(directory, req, res).catch((error: unknown) => sendError(res, error));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const host = options.host ?? '127.0.0.1';
  const wanted = options.port ?? 8083;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause: NodeJS.ErrnoException) =>
      reject(cause.code === 'EADDRINUSE' ? new DeviceApiPortInUseError(`device API port ${host}:${wanted} is already in use; choose another with ${options.portSetting ?? 'its port setting'}`, { cause }) : cause),
    );
    server.listen(wanted, host, () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  return {
    port,
    url: `http://${address}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy(); // SSE streams never end on their own
        server.close(() => resolve());
      }),
  };
}

async function route(directory: DeviceDirectory, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const parts = url.pathname.split('/').filter(Boolean);
  const method = req.method ?? 'GET';

  if (parts[0] === 'openapi.json' && parts.length === 1) {
    requireMethod(method, 'GET');
    return sendJson(res, 200, DEVICE_API_OPENAPI);
  }
  if (parts[0] === 'devices' && parts.length === 1) {
    requireMethod(method, 'GET');
    const offset = Number(url.searchParams.get('offset') ?? 0);
    const limit = Math.min(Number(url.searchParams.get('limit') ?? 100), 1000);
    if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(limit) || limit < 1) {
      throw new HttpError(400, 'ERR_SIM_BAD_QUERY', 'offset and limit must be non-negative integers');
    }
    return sendJson(res, 200, { total: directory.size, offset, devices: directory.list(offset, limit) });
  }
  if (parts[0] === 'devices' && parts[1]) {
    const device = lookup(directory, parts[1]);
    if (parts.length === 2) {
      requireMethod(method, 'GET');
      return sendJson(res, 200, device.info());
    }
    if (parts[2] === 'connectivity' && parts.length === 3) {
      requireMethod(method, 'POST');
      const body = (await readJson(req)) as { wifi?: unknown; cellular?: unknown };
      if ((body.wifi !== undefined && typeof body.wifi !== 'boolean') || (body.cellular !== undefined && typeof body.cellular !== 'boolean')) {
        throw new HttpError(400, 'ERR_SIM_BAD_BODY', 'wifi and cellular must be booleans when present');
      }
      const fallbackTriggered = device.setConnectivity({
        ...(body.wifi !== undefined ? { wifi: body.wifi as boolean } : {}),
        ...(body.cellular !== undefined ? { cellular: body.cellular as boolean } : {}),
      });
      return sendJson(res, 200, { connectivity: device.getConnectivity(), fallbackTriggered });
    }
    if (parts[2] === 'attach' && parts.length === 3) {
      requireMethod(method, 'POST');
      return sendJson(res, 200, device.attach());
    }
    if (parts[2] === 'events' && parts.length === 3) {
      requireMethod(method, 'GET');
      return streamEvents(device, req, res);
    }
  }
  if (parts[0] === 'euicc' && parts[1] && parts[2] === 'apdu' && parts.length === 3) {
    requireMethod(method, 'POST');
    const eid = parts[1];
    lookup(directory, eid);
    const raw = (req.headers['content-type'] ?? '').startsWith('application/octet-stream');
    const apdu = raw ? await readBody(req) : parseHex((await readJson(req)) as { apdu?: unknown });
    if (apdu.length < 4) throw new HttpError(400, 'ERR_SIM_BAD_APDU', 'a C-APDU has at least CLA INS P1 P2');
    let response: Buffer;
    try {
      response = directory.transmit(eid, apdu);
    } catch (error) {
      if (error instanceof PowerLoss) throw new HttpError(409, error.code, `${error.message}; the card rebooted and sent nothing`);
      throw error;
    }
    if (raw) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': response.length });
      return void res.end(response);
    }
    return sendJson(res, 200, {
      response: response.toString('hex').toUpperCase(),
      sw: response.subarray(response.length - 2).toString('hex').toUpperCase(),
    });
  }
  throw new HttpError(404, 'ERR_SIM_NOT_FOUND', `no route ${method} ${url.pathname}`);
}

function lookup(directory: DeviceDirectory, eid: string): DeviceHandle {
  const device = directory.device(eid);
  if (!device) throw new HttpError(404, 'ERR_SIM_UNKNOWN_EID', `no device with EID ${eid}`);
  return device;
}

function requireMethod(actual: string, expected: string): void {
  if (actual !== expected) throw new HttpError(405, 'ERR_SIM_METHOD_NOT_ALLOWED', `use ${expected}`);
}

function parseHex(body: { apdu?: unknown }): Buffer {
  const text = typeof body.apdu === 'string' ? body.apdu.replace(/\s+/g, '') : undefined;
  if (text === undefined || !/^([0-9a-fA-F]{2})+$/.test(text)) {
    throw new HttpError(400, 'ERR_SIM_BAD_HEX', 'body must be { "apdu": "<even-length hex>" }');
  }
  return Buffer.from(text, 'hex');
}

function streamEvents(device: DeviceHandle, req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.write(': connected\n\n'); // SSE comment: lets clients know the stream is open
  const unsubscribe = device.watch((event) => res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`));
  req.on('close', unsubscribe);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'ERR_SIM_BODY_TOO_LARGE', 'request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = (await readBody(req)).toString('utf8');
  try {
    const value: unknown = JSON.parse(text || '{}');
    if (typeof value !== 'object' || value === null) throw new Error('not an object');
    return value;
  } catch {
    throw new HttpError(400, 'ERR_SIM_BAD_JSON', 'request body must be a JSON object');
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, error: unknown): void {
  if (res.headersSent) return void res.end();
  if (error instanceof HttpError) return sendJson(res, error.status, { error: { code: error.code, message: error.message } });
  if (isRspError(error)) return sendJson(res, 400, { error: { code: error.code, message: error.message } });
  sendJson(res, 500, { error: { code: 'ERR_SIM_INTERNAL', message: 'internal error' } });
}
