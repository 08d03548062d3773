/**
 * The services' pino configuration (issue 10 item 6): secret-named fields are redacted wherever code puts
 * them, the domain port writes correlation ids as properties, and a console-like logger passes through.
 */
import { describe, expect, it } from '@jest/globals';
import { correlationOf, createServiceLogger, isPinoLogger, logLevelFrom, pinoPort, serviceLogging } from '../src/logging';

function capture(): { lines: Array<Record<string, unknown>>; destination: { write(line: string): void } } {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } };
}

describe('service logging', () => {
  it.each([
    ['a Ki and an OPc', { ki: '000102030405060708090a0b0c0d0e0f', opc: 'ffeeddccbbaa99887766554433221100' }],
    ['an API key and a claim code one level down', { client: { apiKey: 'k-123456', claimCode: 'ABCD-EFGH' } }],
    ['a bearer token and an MNO key in request headers', { req: { headers: { authorization: 'Bearer eyJ.x.y', 'x-api-key': 'mno-key-1', 'x-owner-consent': 'eyJ.c.s' } } }],
    ['a private key, a transfer code and a PAC', { privateKey: '-----BEGIN PRIVATE KEY-----', transferCode: 'T-1', pac: 'PAC-1' }],
  ])('redacts %s', (_what, fields) => {
    const { lines, destination } = capture();
    createServiceLogger('sm-dp', { destination }).info(fields, 'with secrets');
    const text = JSON.stringify(lines);
    for (const secret of ['000102030405', 'ffeeddcc', 'k-123456', 'ABCD-EFGH', 'eyJ', 'mno-key-1', 'BEGIN PRIVATE', 'T-1', 'PAC-1']) expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
  });

  it('writes the port’s correlation ids as properties of the line', () => {
    const { lines, destination } = capture();
    pinoPort(createServiceLogger('sm-sr', { destination })).warn('card lease lost', { eid: '89049032123451234512345678901235', functionCallIdentifier: 'c-1', code: '1.2/4.2' });
    expect(lines[0]).toMatchObject({ service: 'sm-sr', level: 40, msg: 'card lease lost', eid: '89049032123451234512345678901235', functionCallIdentifier: 'c-1', code: '1.2/4.2' });
  });

  it('takes RSP_LOG_LEVEL from pino\'s levels only, info when unset', () => {
    expect(logLevelFrom(undefined)).toBe('info');
    expect(logLevelFrom('debug')).toBe('debug');
    expect(() => logLevelFrom('verbose')).toThrow(/RSP_LOG_LEVEL must be one of/);
  });

  it('reads the SGP.02 correlation ids of a request body, and nothing from a body that has none', () => {
    expect(correlationOf({ header: { functionCallIdentifier: 'f-1', functionRequesterIdentifier: 'mno.a' }, eid: 'E', ki: 'K' })).toEqual({ functionCallIdentifier: 'f-1', eid: 'E' });
    expect(correlationOf('text')).toEqual({});
    expect(correlationOf({ header: { functionCallIdentifier: 7 } })).toEqual({});
  });

  it('logs HTTP requests only through pino; a console-like logger is used as it is; none is silent', () => {
    const { destination } = capture();
    const pino = createServiceLogger('sm-dp', { destination });
    expect(isPinoLogger(pino)).toBe(true);
    expect(serviceLogging(pino).httpMiddleware).toBeDefined();
    const seen: string[] = [];
    const consoleLike = { log: (m: string) => void seen.push(m), warn: (m: string) => void seen.push(m), error: (m: string) => void seen.push(m) };
    const logging = serviceLogging(consoleLike);
    expect(isPinoLogger(consoleLike)).toBe(false);
    expect(logging.httpMiddleware).toBeUndefined();
    logging.port.warn('w');
    expect(seen).toEqual(['w']);
    expect(serviceLogging(undefined).nest).toBe(false);
  });
});
