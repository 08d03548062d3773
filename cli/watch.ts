/**
 * `--watch`: follows an ES2 call while it runs, from the SM-DP's transaction stream, or an ES4 call from the
 * SM-SR's (`GET /transactions/{functionCallIdentifier}/events`, Server-Sent Events; docs/services.md
 * "Transactions"), and prints each step on stderr as it starts and ends (stdout keeps the SGP.02 result
 * line for scripts). For an ES2 call, as each ES3 call ends, the card scripts it ran are printed above it
 * from the SM-SR's record of that call (`GET /transactions/{correlationId}` there, with the same key): the
 * MNO sees its call down to the eUICC. An ES4 call's steps are the card scripts themselves.
 */
export interface WatchOptions {
  /** The service called: the SM-DP for ES2, the SM-SR for ES4. */
  service: { name: 'SM-DP' | 'SM-SR'; url: string };
  /** Where the SM-SR's records of an ES2 call's ES3 calls are read; absent = the service's steps only. */
  smsrUrl?: string;
  apiKey: string | undefined;
  callId: string;
  /** Where progress lines go. */
  progress: (line: string) => void;
  fetch?: typeof fetch;
  /** Aborted once the call itself has answered. */
  signal: AbortSignal;
}

/** Prints the steps until the stream says `done`, the call answers, or the stream is unavailable. */
export async function watchTransaction(options: WatchOptions): Promise<void> {
  const doFetch = options.fetch ?? fetch;
  const started = Date.now();
  const since = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s`;
  let response: Response;
  try {
    response = await doFetch(`${options.service.url.replace(/\/+$/, '')}/transactions/${encodeURIComponent(options.callId)}/events`, {
      headers: { accept: 'text/event-stream', ...(options.apiKey ? { 'x-api-key': options.apiKey } : {}) },
      signal: options.signal,
    });
  } catch {
    return; // the call answered first, or the service is unreachable (the call itself reports that)
  }
  if (!response.ok || !response.body) {
    options.progress(`  (no progress stream from the ${options.service.name}: HTTP ${response.status})`);
    return;
  }
  options.progress(`  following ${options.callId}`);
  const cardScripts = smsrRecords(options, doFetch);
  const decoder = new TextDecoder();
  let buffered = '';
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const event = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const data = event.split('\n').find((line) => line.startsWith('data: '));
        if (!data) continue;
        const step = JSON.parse(data.slice(6)) as StepEvent;
        if (step.step === 'done') {
          options.progress(`${since()}  done: ${step.status ?? '?'}`);
          return;
        }
        if (step.state !== 'running' && step.correlationId) {
          for (const script of await cardScripts(step.correlationId)) options.progress(`${since()}      ${stepLine(script)}`);
        }
        options.progress(`${since()}  ${stepLine(step)}`);
      }
    }
  } catch {
    // aborted once the answer is in: nothing more to show
  }
}

interface StepEvent {
  step?: string;
  state?: string;
  status?: string;
  durationMs?: number;
  correlationId?: string;
}

/** `✔ es3.SendData  Executed-Success (8 ms)`, `… es5.INSTALL`. */
function stepLine(step: StepEvent): string {
  const mark = step.state === 'running' ? '…' : step.state === 'done' ? '✔' : '✘';
  return `${mark} ${step.step}${step.state !== 'running' && step.status ? `  ${step.status}` : ''}${step.durationMs !== undefined ? ` (${step.durationMs} ms)` : ''}`;
}

/** How long one read of the SM-SR's record may take before the watch stops asking it. */
const SMSR_READ_MS = 500;

/**
 * Reads the card scripts of an ES3 call from the SM-SR's record of it. None when it keeps no record of that
 * call for this MNO (404: GetEIS). When the SM-SR cannot be reached in time or refuses the key, the watch
 * says so once and stops asking, so the SM-DP's steps keep flowing.
 */
function smsrRecords(options: WatchOptions, doFetch: typeof fetch): (correlationId: string) => Promise<StepEvent[]> {
  let givenUp = options.smsrUrl === undefined;
  const giveUp = (why: string): StepEvent[] => {
    givenUp = true;
    options.progress(`  (no card scripts from the SM-SR at ${options.smsrUrl}: ${why})`);
    return [];
  };
  return async (correlationId) => {
    if (givenUp) return [];
    let response: Response;
    try {
      response = await doFetch(`${(options.smsrUrl as string).replace(/\/+$/, '')}/transactions/${encodeURIComponent(correlationId)}`, {
        headers: options.apiKey ? { 'x-api-key': options.apiKey } : {},
        signal: AbortSignal.any([options.signal, AbortSignal.timeout(SMSR_READ_MS)]),
      });
    } catch (error) {
      if (options.signal.aborted) return [];
      return giveUp((error as Error).name === 'TimeoutError' ? `no answer in ${SMSR_READ_MS} ms` : 'unreachable');
    }
    if (response.status === 404) return [];
    if (!response.ok) return giveUp(`HTTP ${response.status}`);
    try {
      return ((await response.json()) as { steps?: StepEvent[] }).steps ?? [];
    } catch {
      return [];
    }
  };
}
