/**
 * One MQTT connection per broker identity (docs/security.md). A service proves who it is with a TLS client
 * certificate from the Test TLS CA; its certificate CN is its principal name AND its client id, because the
 * broker refuses (aedes) or rewrites (Mosquitto `use_username_as_clientid`) any other id — which is what
 * stops one client taking over another's session. So a service opens ONE connection and every component
 * (ES3 server and client, ES5 channel, owner-status subscriber, outbox) shares it.
 */
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { TransportError } from './errors';

/** A broker identity: the principal name (= certificate CN = client id) and its TLS material, as PEM. */
export interface MqttCredentials {
  principal: string;
  /** The CA the broker's server certificate must chain to (the Test TLS CA). */
  ca: string;
  cert: string;
  /** @secret the client's private key */
  key: string;
}

export interface MqttConnectionOptions {
  url: string;
  /** Required, unless `allowAnonymous` (transport unit tests on an insecure test broker). */
  credentials?: MqttCredentials;
  allowAnonymous?: boolean;
  /** Client id when anonymous (default a random one); with credentials it is always the principal. */
  anonymousClientId?: string;
  protocolVersion?: 4 | 5;
  /** Default true: subscriptions are re-made by mqtt.js after a reconnect. */
  clean?: boolean;
  will?: IClientOptions['will'];
  reconnectPeriod?: number;
  properties?: IClientOptions['properties'];
}

/**
 * mqtt.js logs each packet through the `debug` package, whose wrapper takes `...args` and so allocates an
 * array per call even when disabled: about 120 KB per provisioning, the largest allocation of the services
 * (bench -- provisioning, heap sampling). Unless DEBUG asks for mqtt.js's lines, a no-op logger replaces it.
 */
const MQTT_DEBUG_WANTED = /mqttjs|\*/.test(process.env.DEBUG ?? '');
const quietMqttLog = (): void => undefined;

/** mqtt.js options for a connection: TLS with the identity's certificate, client id = principal. */
export function mqttClientOptions(options: MqttConnectionOptions): IClientOptions {
  const { credentials } = options;
  if (!credentials) {
    if (!options.allowAnonymous) {
      throw new TransportError.CredentialsMissing(`no broker identity (TLS client certificate) to connect to ${redactUrl(options.url)}`);
    }
  } else if (!/^(mqtts|ssl|wss):/.test(options.url)) {
    throw new TransportError.InvalidOptions(`a broker identity needs a TLS URL (mqtts://), got ${redactUrl(options.url)}`);
  }
  return {
    reconnectPeriod: options.reconnectPeriod ?? 1000,
    connectTimeout: 10_000,
    clean: options.clean ?? true,
    protocolVersion: options.protocolVersion ?? 4,
    clientId: credentials?.principal ?? options.anonymousClientId ?? `rsp-anon-${Math.random().toString(36).slice(2, 12)}`,
    ...(credentials ? { ca: credentials.ca, cert: credentials.cert, key: credentials.key, rejectUnauthorized: true } : {}),
    ...(options.will ? { will: options.will } : {}),
    ...(options.properties ? { properties: options.properties } : {}),
    ...(MQTT_DEBUG_WANTED ? {} : { log: quietMqttLog }),
  };
}

/** Connects (rejecting with ERR_TRANSPORT_BROKER when the broker refuses us) and keeps Nagle off. */
export async function connectMqtt(options: MqttConnectionOptions): Promise<MqttClient> {
  const clientOptions = mqttClientOptions(options);
  let client: MqttClient;
  try {
    client = await connectAsync(options.url, clientOptions);
  } catch (cause) {
    throw new TransportError.Broker(`cannot connect to ${redactUrl(options.url)} as ${clientOptions.clientId}: ${(cause as Error).message}`, { cause });
  }
  disableNagle(client);
  client.on('connect', () => disableNagle(client));
  client.on('error', () => undefined); // mqtt.js reconnects by itself; an unhandled 'error' would crash
  return client;
}

/**
 * mqtt.js leaves Nagle's algorithm on: a small PUBLISH then waits for the peer's delayed ACK, and a
 * sequential request/reply costs ~90 ms instead of < 1 ms (measured with bench/transport.ts). Set on
 * every connect because mqtt.js builds a new socket per reconnect.
 */
export function disableNagle(client: MqttClient): void {
  const socket = client.stream as { setNoDelay?: (noDelay: boolean) => unknown };
  socket.setNoDelay?.(true);
}

/** A URL fit for a log line: no user info. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}
