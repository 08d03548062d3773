/**
 * Structured logs for every service (issue 10 item 6): pino JSON lines, one per event, each carrying the
 * correlation ids of @rsp/contracts `LogFields` (functionCallIdentifier, transactionId, eid). HTTP
 * requests are logged by pino-http, with the ids read from the SGP.02 request body. Not nestjs-pino: its
 * v5 keeps ONE pino-http instance per process (rootLogger.js), so in the stack, where three services run in
 * one process, every request would be logged under the first service's logger. Secrets are redacted by configuration (REDACTED_PATHS), whatever code logs them.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LoggerService } from '@nestjs/common';
import { SILENT_LOGGER, type LogFields, type RspLogger } from '@rsp/contracts';
import { pino, type DestinationStream, type Level, type Logger as PinoLogger } from 'pino';
import { pinoHttp, type HttpLogger } from 'pino-http';
import { logFormatFrom, textLogDestination } from './log-text';

export type { PinoLogger };

/** Field names that carry secrets anywhere in a log object (the security stance: never in clear). */
const SECRET_FIELDS = [
  'ki', 'opc', 'op', 'privateKey', 'secretKey', 'keys', 'apiKey', 'token', 'idToken', 'accessToken', 'refreshToken',
  'consent', 'consentToken', 'claimCode', 'transferCode', 'pac', 'password', 'secret', 'authorization', 'cookie',
] as const;

/** What pino replaces with "[redacted]": secret fields at the top level and one level down, and the credential headers. */
export const REDACTED_PATHS: readonly string[] = [
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((field) => `*.${field}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["x-owner-consent"]',
  'res.headers["set-cookie"]',
];

export interface ServiceLoggerOptions {
  /** Default `RSP_LOG_LEVEL`, else info. */
  readonly level?: Level | 'silent';
  /** Default stdout: JSON lines, or text lines (log-text.ts) by `RSP_LOG_FORMAT` (`auto`: text on a terminal). */
  readonly destination?: DestinationStream;
}

/** pino's own level names, and `silent`. */
const LOG_LEVELS: readonly string[] = [...Object.keys(pino.levels.values), 'silent'];

/** RSP_LOG_LEVEL, validated: a typo fails the start instead of silently logging at another level. */
export function logLevelFrom(value: string | undefined): Level | 'silent' {
  if (value === undefined || value === '') return 'info';
  if (!LOG_LEVELS.includes(value)) throw new Error(`RSP_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${value.slice(0, 20)}")`);
  return value as Level | 'silent';
}

/** The pino logger of one service (JSON lines with `service`), or of a stack whose services are its children; redaction configured. */
export function createServiceLogger(service: string | undefined, options: ServiceLoggerOptions = {}): PinoLogger {
  const level = options.level ?? logLevelFrom(process.env['RSP_LOG_LEVEL']);
  const config = { level, base: service ? { service } : {}, redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime };
  if (options.destination) return pino(config, options.destination);
  return logFormatFrom(process.env['RSP_LOG_FORMAT'], process.stdout.isTTY === true) === 'text' ? pino(config, textLogDestination(process.stdout)) : pino(config);
}

/** True for a pino logger (rather than a console-like RspLogger a test passes). */
export function isPinoLogger(logger: unknown): logger is PinoLogger {
  return typeof logger === 'object' && logger !== null && typeof (logger as PinoLogger).child === 'function' && typeof (logger as PinoLogger).levels === 'object';
}

/** The domain's logger port written to pino: the fields become the line's properties, the message its `msg`. */
export function pinoPort(logger: PinoLogger): RspLogger {
  return {
    log: (message, fields) => (fields ? logger.info(fields, message) : logger.info(message)),
    warn: (message, fields) => (fields ? logger.warn(fields, message) : logger.warn(message)),
    error: (message, fields) => (fields ? logger.error(fields, message) : logger.error(message)),
  };
}

/** Nest's own messages: warnings and errors only (its start-up route listing is noise in a JSON log). */
class NestToPino implements LoggerService {
  constructor(private readonly logger: PinoLogger) {}
  log(): void {}
  warn(message: unknown, ...context: unknown[]): void {
    this.logger.warn({ context: context.at(-1) }, String(message));
  }
  error(message: unknown, ...context: unknown[]): void {
    this.logger.error({ context: context.at(-1) }, message instanceof Error ? message.message : String(message));
  }
}

/** How a service logs: the domain port, Nest's logger, and the HTTP request logger when pino is in use. */
export interface ServiceLogging {
  readonly port: RspLogger;
  readonly nest: LoggerService | false;
  /** The HTTP request logger (pino-http middleware); absent for a console-like logger. */
  readonly httpMiddleware?: HttpLogger;
}

/**
 * A service's logging from its `logger` option: a pino logger (what main.ts and `npm start` pass) gives
 * JSON lines and request logs; a console-like object (tests) is used as it is; none is silent.
 */
export function serviceLogging(logger: PinoLogger | RspLogger | undefined): ServiceLogging {
  if (logger === undefined) return { port: SILENT_LOGGER, nest: false };
  // A console-like logger also hears Nest's own lines (the no-secrets tests search them too).
  if (!isPinoLogger(logger)) return { port: logger, nest: logger as LoggerService };
  return { port: pinoPort(logger), nest: new NestToPino(logger), httpMiddleware: httpRequestLogging(logger) };
}

/** The SGP.02 correlation ids of a request body: the header's functionCallIdentifier (§5.1) and the EID it targets. */
export function correlationOf(body: unknown): LogFields {
  if (typeof body !== 'object' || body === null) return {};
  const record = body as { header?: { functionCallIdentifier?: unknown }; eid?: unknown };
  const id = record.header?.functionCallIdentifier;
  return {
    ...(typeof id === 'string' ? { functionCallIdentifier: id } : {}),
    ...(typeof record.eid === 'string' ? { eid: record.eid } : {}),
  };
}

function httpRequestLogging(logger: PinoLogger): HttpLogger {
  return pinoHttp({
    logger,
    genReqId: (request: IncomingMessage) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.:-]{1,64}$/.test(given) ? given : randomUUID();
    },
    // The body is parsed by the time the request completes, so its correlation ids can be added.
    customProps: (request: IncomingMessage) => correlationOf((request as IncomingMessage & { body?: unknown }).body),
    // A successful read (the console's and the portal's polling, SSE streams) is debug: at the default level
    // the log holds the calls that change something and every refusal.
    customLogLevel: (request: IncomingMessage, response: ServerResponse, error?: Error) =>
      error || response.statusCode >= 500 ? 'error' : response.statusCode >= 400 ? 'warn' : request.method === 'GET' ? 'debug' : 'info',
    serializers: {
      req: (request: { id: unknown; method: string; url: string; headers: Record<string, unknown> }) => ({ id: request.id, method: request.method, url: request.url, headers: request.headers }),
      res: (response: { statusCode: number }) => ({ statusCode: response.statusCode }),
    },
    autoLogging: { ignore: (request: IncomingMessage) => (request.url ?? '').startsWith('/docs') },
  });
}
