/**
 * ES2 over HTTP to an MNO's SM-DP (docs/services.md "HTTP binding"): POST `{es2Url}/gsma/es2/{fn}`
 * with `X-API-Key` and `X-Owner-Consent`; the SM-DP answers HTTP 200 (401 without a key) with
 * `{ header: { functionExecutionStatus }, …output }`. Anything else is ERR_OWNER_ES2_UNREACHABLE.
 */
import { OWNER_CONSENT_HEADER } from '@rsp/identity';
import type { Es2Answer, Es2FunctionName, Es2ReadFunctionName, Es2Transport, FunctionExecutionStatus } from '../domain/es2';
import { OwnerError } from '../domain/errors';

export class Es2HttpTransport implements Es2Transport {
  constructor(private readonly timeouts: { downloadMs: number; otherMs: number } = { downloadMs: 300_000, otherMs: 60_000 }) {}

  async call(connector: { mnoId: string; es2Url: string; es2ApiKey: string }, fn: Es2FunctionName | Es2ReadFunctionName, body: unknown, consent: string | null): Promise<Es2Answer> {
    const url = `${connector.es2Url.replace(/\/+$/, '')}/gsma/es2/${fn}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': connector.es2ApiKey, ...(consent === null ? {} : { [OWNER_CONSENT_HEADER]: consent }) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(fn === 'downloadProfile' ? this.timeouts.downloadMs : this.timeouts.otherMs),
      });
    } catch (cause) {
      throw new OwnerError.Es2Unreachable(`ES2 ${fn} of ${connector.mnoId}: SM-DP unreachable`, { cause });
    }
    const json = (await response.json().catch(() => undefined)) as { header?: { functionExecutionStatus?: FunctionExecutionStatus } } | undefined;
    const status = json?.header?.functionExecutionStatus;
    if (!json || typeof status?.status !== 'string') throw new OwnerError.Es2Unreachable(`ES2 ${fn} of ${connector.mnoId}: HTTP ${response.status} without a function status`);
    return { functionExecutionStatus: status, body: json as Record<string, unknown> };
  }
}
