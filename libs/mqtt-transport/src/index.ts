/**
 * @packageDocumentation
 * `@rsp/mqtt-transport`: MQTT plumbing shared by the services and the simulator.
 *
 * - {@link startEmbeddedBroker}: the embedded aedes broker (MQTT 3.1.1) behind the zero-install start: TLS client
 *   certificates and the one broker ACL of @rsp/contracts in its hooks.
 * - {@link connectMqtt}: one connection per broker identity (client id = certificate CN), shared by a service's parts.
 * - Service requests (ES3 SM-DP → SM-SR and other service-to-service calls), documented in docs/topics.md:
 *   - {@link RspMqttServer}: NestJS custom transport strategy; subscribes `{prefix}/svc/{pattern}` per
 *     handler (`$share/{group}/…` under MQTT 5), one reply per request, duplicate ids answered from a cache,
 *     expired deadlines refused. Pair it with {@link RspRpcExceptionFilter} so RspError codes survive Nest.
 *   - {@link RspMqttClient}: NestJS ClientProxy; {@link RspRequester}: the same client without Nest.
 *     One stable reply subscription per instance, replies routed by correlation id, per-request timeout.
 *   - `rsp-envelope`: the pure v1 JSON envelope/reply codec and topic names; {@link TransportError}: its errors.
 */
export * from './embedded-broker';
export * from './broker-thread';
export * from './worker-threads';
export * from './credentials';
export { TransportError } from './errors';
export {
  DEFAULT_TOPIC_PREFIX,
  ENVELOPE_VERSION,
  assertPattern,
  decodeReply,
  decodeRequest,
  encodeReply,
  encodeRequest,
  errorReply,
  idLevel,
  isReplyTopicOf,
  parseRequestTopic,
  replyTopic,
  requestFilter,
  requestTopic,
  toReplyError,
  type ReplyEnvelope,
  type ReplyErrorBody,
  type RequestEnvelope,
} from './rsp-envelope';
export { RspRequester, type ReplyCallback, type RequestOptions, type RspRequesterOptions } from './requester';
export { connectMqtt, disableNagle, mqttClientOptions, redactUrl, type MqttConnectionOptions, type MqttCredentials } from './connection';
export { RspMqttClient, type RspMqttClientOptions, type RspMqttEvents } from './client';
export { RspMqttContext, RspMqttServer, type RspMqttServerEvents, type RspMqttServerOptions } from './server';
export { RspRpcExceptionFilter } from './exception-filter';
export { DeviceStatusSubscriber, SETTLE_MS, SETTLE_LIMIT_MS, type DeviceStatusSink } from './device-status-subscriber';
