/**
 * RspMqttClient: a NestJS ClientProxy over RspRequester (stable reply subscription, id-routed replies,
 * per-request timeout). Register it with `ClientsModule.register([{ name, customClass: RspMqttClient,
 * options }])` or construct it directly; `send()` yields exactly one value or a typed RspError.
 */
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { RspRequester, type RspRequesterOptions } from './requester';

export type RspMqttClientOptions = RspRequesterOptions;

/** mqtt.js client events `on()` forwards. */
export type RspMqttEvents = {
  error: (error: Error) => void;
  connect: () => void;
  reconnect: () => void;
  offline: () => void;
  close: () => void;
};

export class RspMqttClient extends ClientProxy<RspMqttEvents> {
  /** The Nest-free requester doing the work (shares its connection). */
  readonly requester: RspRequester;

  constructor(options: RspMqttClientOptions) {
    super();
    this.requester = new RspRequester(options);
  }

  /** Connects once; Nest calls this before every send/emit, so it must stay idempotent. */
  connect(): Promise<void> {
    return this.requester.connect();
  }

  close(): Promise<void> {
    return this.requester.close();
  }

  unwrap<T>(): T {
    return this.requester.unwrap() as T;
  }

  /** Forwards to the mqtt.js client's events (`error`, `reconnect`, `offline`, …). */
  override on<K extends keyof RspMqttEvents = keyof RspMqttEvents, C extends RspMqttEvents[K] = RspMqttEvents[K]>(
    event: K,
    callback: C,
  ): void {
    this.requester.on(event, callback as (...args: never[]) => void);
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const pattern = this.normalizePattern(packet.pattern);
    return this.requester.start(pattern, packet.data, (err, response) =>
      err ? callback({ err }) : callback({ response, isDisposed: true }),
    );
  }

  protected dispatchEvent<T = unknown>(packet: ReadPacket): Promise<T> {
    return this.requester.emit(this.normalizePattern(packet.pattern), packet.data) as Promise<T>;
  }
}
