/**
 * The services' log as text for a terminal (libs/service-kit/src/log-text.ts, `RSP_LOG_FORMAT`): one line
 * per record, read left to right, after pino's redaction; JSON stays the default off a terminal.
 */
import { describe, expect, it } from '@jest/globals';
import { createServiceLogger, formatLogLine, logFormatFrom, pinoPort, textLogDestination } from '../src/index';

describe('the text log', () => {
  it('prints a request as time, service, level, message, method, URL, status and duration, then its ids; not its headers', () => {
    const json = JSON.stringify({
      level: 30,
      time: '2026-12-06T22:50:48.296Z',
      service: 'sm-sr',
      req: { id: 'r-1', method: 'POST', url: '/gsma/es1/registerEIS', headers: { host: '127.0.0.1:8082', 'x-api-key': '[redacted]' } },
      functionCallIdentifier: 'register-1',
      res: { statusCode: 200 },
      responseTime: 31,
      msg: 'request completed',
    });
    expect(formatLogLine(json)).toBe('22:50:48.296  sm-sr           info   request completed  POST /gsma/es1/registerEIS → 200 in 31 ms  functionCallIdentifier=register-1');
  });

  it('prints an error’s type and message, and any other field as name=value', () => {
    const json = JSON.stringify({ level: 50, time: '2026-12-06T22:50:49.001Z', service: 'sm-dp', err: { type: 'Es5Error', message: 'card unreachable', stack: 'Es5Error: …' }, eid: '8904', detail: { step: 'create-isdp' }, msg: 'step failed' });
    expect(formatLogLine(json)).toBe('22:50:49.001  sm-dp           error  step failed  Es5Error: card unreachable  eid=8904  detail={"step":"create-isdp"}');
  });

  it('passes a line that is not a JSON record through as it came', () => {
    expect(formatLogLine('not json\n')).toBe('not json');
    expect(formatLogLine('[1,2]')).toBe('[1,2]');
  });

  it('writes what the service logs, redacted as in the JSON lines', () => {
    const lines: string[] = [];
    const logger = createServiceLogger('sm-sr', { destination: textLogDestination({ write: (text: string) => lines.push(text) }) });
    pinoPort(logger).warn('card lease lost', { eid: '89049032123451234512345678901235', apiKey: 'mno-key-1' } as never);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}sm-sr {10} warn {3}card lease lost {2}eid=89049032123451234512345678901235 {2}apiKey=\[redacted\]\n$/);
  });

  it('RSP_LOG_FORMAT: auto (the default) is text on a terminal and JSON elsewhere; anything else is refused by name', () => {
    expect(logFormatFrom(undefined, true)).toBe('text');
    expect(logFormatFrom('auto', false)).toBe('json');
    expect(logFormatFrom('json', true)).toBe('json');
    expect(logFormatFrom('text', false)).toBe('text');
    expect(() => logFormatFrom('yaml', true)).toThrow('RSP_LOG_FORMAT must be one of auto, json, text (got "yaml")');
  });
});
