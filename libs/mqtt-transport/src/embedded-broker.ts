/**
 * The embedded MQTT 3.1.1 broker (aedes) behind `npm start`'s zero-install default. Production deployments
 * point RSP_MQTT_URL at Mosquitto with the shipped configuration (deploy/mosquitto) instead.
 *
 * Secured (the default): a TLS listener that requires a client certificate from the Test TLS CA, and the one
 * ACL table of @rsp/contracts (`BROKER_ACL`) enforced in aedes' hooks — the same rules the Mosquitto ACL file
 * is rendered from (docs/security.md, docs/topics.md):
 *
 * | hook | step | rule |
 * |---|---|---|
 * | TLS handshake | client certificate | signed by the configured CA, else the handshake fails (no MQTT at all) |
 * | authenticate | identity | principal = the certificate CN; a CONNECT username, if any, must equal it (else 4) |
 * | authenticate | client id | the client id must equal the principal (else 2, identifier rejected): no takeover |
 * | authorizeSubscribe | read | `maySubscribe(principal, filter)`, else SUBACK 0x80 |
 * | authorizePublish | write | `mayPublish(principal, topic)` (wills included), else the connection is closed (MQTT-3.3.5-2) |
 *
 * A connection's grants are resolved once (`connectionGrants`) and kept on it until the principals change.
 *
 * `insecure: true` keeps the old anonymous plain-TCP broker for transport-level unit tests only; the
 * services refuse to connect without credentials (see `connectMqtt`).
 */
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { Aedes, type AedesOptions, type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes';
import { connectionGrants, type BrokerPrincipal, type ConnectionGrants } from '@rsp/contracts';
import { RspError } from '@rsp/errors';
import { TransportError } from './errors';

export class BrokerPortInUseError extends RspError {
  static override readonly code = 'ERR_MQTT_BROKER_PORT_IN_USE';
}

/** Why the broker refused a client: logged by code, and counted for tests. */
export class BrokerRefusal extends RspError {
  static override readonly code = 'ERR_MQTT_BROKER_REFUSED';
  constructor(
    readonly reason: 'no-certificate' | 'username-mismatch' | 'client-id-mismatch' | 'publish-denied' | 'subscribe-denied',
    message: string,
  ) {
    super(message);
  }
}

export interface EmbeddedBroker {
  readonly host: string;
  readonly port: number;
  /** `mqtts://host:port` (secured) or `mqtt://host:port` (insecure test broker), ready for mqtt.js. */
  readonly url: string;
  /** Refusals so far (most recent last, at most 1000): what an operator or a test inspects. */
  readonly refusals: readonly BrokerRefusal[];
  /** Replaces the listed principals (a deployment adding an MNO or a gateway). */
  setPrincipals(principals: readonly BrokerPrincipal[]): void;
  close(): Promise<void>;
}

export interface BrokerTls {
  /** PEM of the CA whose client certificates are accepted (the Test TLS CA, a root of its own). */
  ca: string;
  /** PEM of the broker's server certificate and key. */
  cert: string;
  key: string;
}

export interface EmbeddedBrokerOptions {
  /** 0 picks a free ephemeral port (what tests use). */
  port: number;
  host?: string;
  /** Name of the setting that chose the port, quoted in the "port in use" error. */
  portSetting?: string;
  /** TLS with client certificates and the ACL table (required unless `insecure`). */
  tls?: BrokerTls;
  /** The listed principals (services, MNOs, gateways, monitors); everyone else is a device. */
  principals?: readonly BrokerPrincipal[];
  /** Anonymous plain TCP without ACL: transport unit tests only. */
  insecure?: boolean;
  /** Told about every refusal (the stack logs them by code). */
  onRefusal?: (refusal: BrokerRefusal, clientId: string | undefined) => void;
}

/** The principal name the TLS layer proved for this aedes client, set by `authenticate`. */
const PRINCIPAL = Symbol('rsp.principal');
/** Its grants, resolved under the principals of `generation` (setPrincipals starts a new one). */
const GRANTS = Symbol('rsp.grants');
type IdentifiedClient = Client & { [PRINCIPAL]?: string; [GRANTS]?: { generation: number; grants: ConnectionGrants } };

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const host = options.host ?? '127.0.0.1';
  if (!options.tls && !options.insecure) {
    throw new TransportError.InvalidOptions('the embedded broker needs `tls` (client certificates and the ACL), or `insecure: true` in transport tests');
  }
  let principals = new Map((options.principals ?? []).map((p) => [p.name, p]));
  let principalsGeneration = 0;
  /** The grants of an authenticated client (undefined before `authenticate` proved its name). */
  const grantsOf = (client: IdentifiedClient): ConnectionGrants | undefined => {
    const name = client[PRINCIPAL];
    if (name === undefined) return undefined;
    const held = client[GRANTS];
    if (held?.generation === principalsGeneration) return held.grants;
    const grants = connectionGrants(name, principals.get(name));
    client[GRANTS] = { generation: principalsGeneration, grants };
    return grants;
  };
  const refusals: BrokerRefusal[] = [];
  const refuse = (refusal: BrokerRefusal, client: Client | null): BrokerRefusal => {
    refusals.push(refusal);
    if (refusals.length > 1000) refusals.shift();
    options.onRefusal?.(refusal, client?.id);
    return refusal;
  };
  const aedes = await Aedes.createBroker(options.tls ? secureHooks() : {});
  // noDelay: with Nagle on, each forwarded PUBLISH waits for a delayed ACK (~40 ms per hop); a
  // sequential request/reply then costs ~90 ms instead of < 1 ms (bench/transport.ts).
  const server: Server = options.tls
    ? createTlsServer({ ca: options.tls.ca, cert: options.tls.cert, key: options.tls.key, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' }, (socket) => {
        socket.setNoDelay(true);
        aedes.handle(socket);
      })
    : createTcpServer({ noDelay: true }, (socket: Socket) => aedes.handle(socket));
  // A client without a valid certificate never reaches MQTT: the TLS alert is its refusal.
  server.on('tlsClientError', (error: Error) => void refuse(new BrokerRefusal('no-certificate', `TLS refused: ${(error as { code?: string }).code ?? error.message}`), null));

  function secureHooks(): AedesOptions {
    const authError = (refusal: BrokerRefusal, client: Client, returnCode: number): AuthenticateError =>
      Object.assign(refuse(refusal, client), { returnCode }) as unknown as AuthenticateError;
    return {
      authenticate(client, username, _password, done) {
        const socket = client.conn as unknown as TLSSocket;
        const certificate = typeof socket.getPeerCertificate === 'function' && socket.authorized ? socket.getPeerCertificate() : undefined;
        const name = certificate?.subject?.CN;
        if (typeof name !== 'string' || name.length === 0) return done(authError(new BrokerRefusal('no-certificate', 'no client certificate'), client, 5), null);
        if (username !== undefined && username !== '' && username !== name) {
          return done(authError(new BrokerRefusal('username-mismatch', `username ${username} is not the certificate's ${name}`), client, 4), null);
        }
        if (client.id !== name) {
          return done(authError(new BrokerRefusal('client-id-mismatch', `client id ${client.id} is not the certificate's ${name}`), client, 2), null);
        }
        (client as IdentifiedClient)[PRINCIPAL] = name;
        done(null, true);
      },
      authorizePublish(client: Client | null, packet: PublishPacket, done: (error?: Error | null) => void) {
        // client null: aedes publishing an old will with nobody connected; it was authorised when stored.
        if (client === null) return done(null);
        if (grantsOf(client)?.mayPublish(packet.topic) === true) return done(null);
        const name = (client as IdentifiedClient)[PRINCIPAL];
        done(refuse(new BrokerRefusal('publish-denied', `${name ?? client.id} may not publish on ${packet.topic}`), client));
      },
      authorizeSubscribe(client: Client, subscription: Subscription, done: (error: Error | null, subscription?: Subscription | null) => void) {
        if (grantsOf(client)?.maySubscribe(subscription.topic) === true) return done(null, subscription);
        const name = (client as IdentifiedClient)[PRINCIPAL];
        refuse(new BrokerRefusal('subscribe-denied', `${name ?? client.id} may not subscribe to ${subscription.topic}`), client);
        done(null, null); // SUBACK 0x80 for this filter; the connection stays
      },
    };
  }

  try {
    await listen(server, options.port, host);
  } catch (cause) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    if ((cause as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      const setting = options.portSetting ?? 'the broker port';
      throw new BrokerPortInUseError(
        `MQTT port ${host}:${options.port} is already in use; choose another with ${setting} ` +
          `or point RSP_MQTT_URL at the broker that holds it`,
        { cause },
      );
    }
    throw cause;
  }
  const port = (server.address() as AddressInfo).port;
  return {
    host,
    port,
    url: `${options.tls ? 'mqtts' : 'mqtt'}://${host}:${port}`,
    refusals,
    setPrincipals(next) {
      principals = new Map(next.map((p) => [p.name, p]));
      principalsGeneration += 1; // every connection's grants are resolved again at its next message
    },
    close: async () => {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
