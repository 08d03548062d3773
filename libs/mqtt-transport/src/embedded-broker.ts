/**
 * The embedded MQTT 3.1.1 broker (aedes) behind `npm start`'s zero-install default. Production
 * deployments point RSP_MQTT_URL at Mosquitto or EMQX instead; nothing else changes.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { RspError } from '@rsp/errors';

export class BrokerPortInUseError extends RspError {
  static override readonly code = 'ERR_MQTT_BROKER_PORT_IN_USE';
}

export interface EmbeddedBroker {
  readonly host: string;
  readonly port: number;
  /** `mqtt://host:port`, ready for mqtt.js. */
  readonly url: string;
  close(): Promise<void>;
}

export interface EmbeddedBrokerOptions {
  /** 0 picks a free ephemeral port (what tests use). */
  port: number;
  host?: string;
  /** Name of the setting that chose the port, quoted in the "port in use" error. */
  portSetting?: string;
}

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const host = options.host ?? '127.0.0.1';
  const aedes = await Aedes.createBroker();
  // noDelay: with Nagle on, each forwarded PUBLISH waits for a delayed ACK (~40 ms per hop); a
  // sequential request/reply then costs ~90 ms instead of < 1 ms (bench/transport.ts).
  const server = createServer({ noDelay: true }, aedes.handle);
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
    url: `mqtt://${host}:${port}`,
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
