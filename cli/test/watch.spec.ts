/**
 * `--watch` (cli/watch.ts): the SM-DP's steps as they come, each ES3 call's card scripts from the SM-SR's
 * record printed above its line; an SM-SR that does not answer or refuses the key is named once and then
 * left alone, so the SM-DP's steps keep flowing.
 */
import { describe, expect, it } from '@jest/globals';
import { watchTransaction } from '../watch';

const SMDP = 'http://smdp.test';
const SMSR = 'http://smsr.test';

/** The SM-DP's event stream of one download: GetEIS, CreateISDP and SendData, then done. */
function smdpEvents(): Response {
  const events = [
    { step: 'es3.GetEIS', state: 'done', status: 'Executed-Success', durationMs: 3, correlationId: 'g-1' },
    { step: 'es3.CreateISDP', state: 'running', correlationId: 'c-1' },
    { step: 'es3.CreateISDP', state: 'done', status: 'Executed-Success', durationMs: 20, correlationId: 'c-1' },
    { step: 'es3.SendData', state: 'done', status: 'Executed-Success', durationMs: 9, correlationId: 's-1' },
    { step: 'done', status: 'Executed-Success' },
  ];
  const body = events.map((event) => `event: step\ndata: ${JSON.stringify(event)}\n\n`).join('');
  return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
}

const scripts = { steps: [{ step: 'es5.DELETE + INSTALL', state: 'done', status: '9000', durationMs: 7 }] };

async function watch(smsr: (id: string, init: RequestInit | undefined) => Promise<Response>): Promise<string[]> {
  const lines: string[] = [];
  const fetchFake = (async (url: string | URL, init?: RequestInit) => {
    const text = String(url);
    if (text.startsWith(SMDP)) return smdpEvents();
    return smsr(decodeURIComponent(text.slice(`${SMSR}/transactions/`.length)), init);
  }) as typeof fetch;
  await watchTransaction({ service: { name: 'SM-DP', url: SMDP }, smsrUrl: SMSR, apiKey: 'k', callId: 'dl-1', progress: (line) => lines.push(line.replace(/^ *[\d.]+ s/, '')), fetch: fetchFake, signal: new AbortController().signal });
  return lines;
}

describe('--watch', () => {
  it("prints each ES3 call's card scripts above its line; a call the SM-SR keeps no record of (404) has none", async () => {
    const lines = await watch(async (id) => (id === 'c-1' ? Response.json(scripts) : new Response('{}', { status: 404 })));
    expect(lines).toEqual([
      '  following dl-1',
      '  ✔ es3.GetEIS  Executed-Success (3 ms)',
      '  … es3.CreateISDP',
      '      ✔ es5.DELETE + INSTALL  9000 (7 ms)',
      '  ✔ es3.CreateISDP  Executed-Success (20 ms)',
      '  ✔ es3.SendData  Executed-Success (9 ms)',
      '  done: Executed-Success',
    ]);
  });

  it('an SM-SR that does not answer is named once, then left alone: the steps go on', async () => {
    const asked: string[] = [];
    const hanging = (id: string, init: RequestInit | undefined) => {
      asked.push(id);
      return new Promise<Response>((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    };
    const lines = await watch(hanging);
    expect(lines).toContain('  (no card scripts from the SM-SR at http://smsr.test: no answer in 500 ms)');
    expect(lines.at(-1)).toBe('  done: Executed-Success');
    expect(asked).toEqual(['g-1']); // not asked again
  }, 10_000);

  it('an SM-SR that refuses the key is named once with its HTTP status', async () => {
    const lines = await watch(async () => new Response('{}', { status: 401 }));
    expect(lines.filter((line) => line.includes('no card scripts'))).toEqual(['  (no card scripts from the SM-SR at http://smsr.test: HTTP 401)']);
    expect(lines).toContain('  ✔ es3.SendData  Executed-Success (9 ms)');
  });
});
