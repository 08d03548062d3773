/**
 * The ES3 client as the transaction log sees it: every ES3 call becomes a step (and two hops) of the ES2
 * transaction running for its EID. A decorator over the port, so the domain knows nothing of it.
 */
import { isRspError } from '@rsp/errors';
import type { Es3CallOptions, Es3Client, Es3Function, Es3RequestMap, Es3ResponseMap } from '../domain/es3-client';
import { statusLine, TransactionLog } from '@rsp/service-kit';

export { TransactionLog };

export function tracedEs3Client(inner: Es3Client, log: TransactionLog): Es3Client {
  return {
    async call<F extends Es3Function>(fn: F, smsrId: string, request: Es3RequestMap[F], options?: Es3CallOptions): Promise<Es3ResponseMap[F]> {
      const eid = (request as { eid?: unknown }).eid;
      // The ES3 call's own id: the SM-SR records the scripts it runs for it under that id (console: the ES2 diagram down to the eUICC).
      const callId = (request as { header?: { functionCallIdentifier?: unknown } }).header?.functionCallIdentifier;
      const done = log.downstream(typeof eid === 'string' ? eid : undefined, {
        step: `es3.${fn}`,
        to: 'SM-SR',
        iface: 'ES3',
        label: fn,
        ...(typeof callId === 'string' ? { correlationId: callId } : {}),
      });
      try {
        const response = await inner.call(fn, smsrId, request, options);
        done(statusLine((response as { header?: { functionExecutionStatus?: Parameters<typeof statusLine>[0] } }).header?.functionExecutionStatus));
        return response;
      } catch (error) {
        done(`error ${isRspError(error) ? error.code : 'unexpected'}`);
        throw error;
      }
    },
    ...(inner.close ? { close: () => (inner.close as () => Promise<void>)() } : {}),
  };
}
