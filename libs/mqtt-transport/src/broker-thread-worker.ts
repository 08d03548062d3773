/**
 * The broker thread of broker-thread.ts: starts the embedded broker with the configuration it was given,
 * reports its address and each refusal, takes principal updates, answers CPU readings, and closes on request.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isRspError } from '@rsp/errors';
import type { BrokerThreadInit, BrokerThreadMessage, BrokerThreadRequest } from './broker-thread';
import { startEmbeddedBroker } from './embedded-broker';
import { threadCpuMs } from './worker-threads';

const init = workerData as BrokerThreadInit;
const port = parentPort;
if (!port) throw new Error('broker-thread-worker runs only as a worker thread');
const post = (message: BrokerThreadMessage): void => port.postMessage(message);

startEmbeddedBroker({ ...init, onRefusal: (refusal, clientId) => post({ type: 'refusal', reason: refusal.reason, message: refusal.message, clientId }) }).then(
  (broker) => {
    port.on('message', (request: BrokerThreadRequest) => {
      if (request.type === 'principals') broker.setPrincipals(request.principals);
      if (request.type === 'cpu') post({ type: 'cpu', id: request.id, ms: threadCpuMs() });
      if (request.type === 'close') void broker.close().finally(() => post({ type: 'closed' }));
    });
    post({ type: 'ready', host: broker.host, port: broker.port, url: broker.url });
  },
  (error: unknown) => post({ type: 'failed', code: isRspError(error) ? error.code : 'ERR_MQTT_BROKER_THREAD', message: (error as Error).message }),
);
