/**
 * ES3 over MQTT service requests (docs/services.md "ES3 over MQTT"): pattern
 * `smsr/{smsrId}/es3/{FunctionName}` (es3Pattern), request data = the ES3 request JSON, reply data = the
 * ES3 response JSON, validated with libs/contracts before the SM-DP trusts it. The requester's `caller` is
 * the SM-DP id: the broker lets only this SM-DP publish under it, which is how the SM-SR knows who asks.
 */
import { es3, es3Pattern, parse } from '@rsp/contracts';
import { RspRequester, type RspRequesterOptions } from '@rsp/mqtt-transport';
import type { Es3CallOptions, Es3Client, Es3Function, Es3RequestMap, Es3ResponseMap } from '../domain/es3-client';

export class MqttEs3Client implements Es3Client {
  private readonly requester: RspRequester;

  constructor(options: RspRequesterOptions) {
    this.requester = new RspRequester(options);
  }

  connect(): Promise<void> {
    return this.requester.connect();
  }

  async call<F extends Es3Function>(fn: F, smsrId: string, request: Es3RequestMap[F], options: Es3CallOptions = {}): Promise<Es3ResponseMap[F]> {
    const reply = await this.requester.request(es3Pattern(smsrId, fn), request, {
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
    return parse(es3.ES3_RESPONSES[fn] as (value: unknown, path: string) => Es3ResponseMap[F], reply);
  }

  close(): Promise<void> {
    return this.requester.close();
  }
}
