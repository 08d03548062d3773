/**
 * {@link Es5Channel} over anything that carries one TS 102 226 command script to a card and brings its
 * response script back ({@link ScriptCarrier}: MQTT in production, an in-process card pool in tests).
 *
 * Exchanges with one card are serialised: a second session's SELECT would end the first one's SCP03
 * session on the card (GP CS §11.9), so two SM-DPs working on the same eUICC queue here, not collide there.
 */
import type { IsdRKeySet } from '@rsp/card';
import type { CommandApdu, ResponseApdu } from '@rsp/tlv';
import type { Es5Channel, Es5RunOptions } from './es5-channel';
import { Es5Error } from './errors';
import { Es5Session } from './es5-session';

/** Carries one AA command script to the card `eid` and resolves with its AB response script. */
export interface ScriptCarrier {
  exchange(eid: string, script: Buffer, deadline: number): Promise<Buffer>;
  close(): Promise<void>;
}

/** Where the SM-SR keeps each card's ISD-R key set (its EIS registry). @secret */
export type IsdRKeyProvider = (eid: string) => IsdRKeySet | Promise<IsdRKeySet>;

export interface ScriptEs5ChannelOptions {
  carrier: ScriptCarrier;
  keys: IsdRKeyProvider;
  /** Longest wait for a card when the caller gives no deadline. Default 10 s. */
  defaultTimeoutMs?: number;
  now?: () => number;
}

export class ScriptEs5Channel implements Es5Channel {
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly options: ScriptEs5ChannelOptions) {
    this.now = options.now ?? Date.now;
  }

  run(eid: string, commands: readonly CommandApdu[], options: Es5RunOptions = {}): Promise<ResponseApdu[]> {
    if (this.closed) return Promise.reject(new Es5Error.CardUnreachable('the ES5 channel is closed'));
    const deadline = options.deadline ?? this.now() + (this.options.defaultTimeoutMs ?? 10_000);
    const previous = this.queues.get(eid) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.session(eid, commands, deadline));
    this.queues.set(eid, next);
    void next.finally(() => {
      if (this.queues.get(eid) === next) this.queues.delete(eid);
    }).catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.options.carrier.close();
  }

  private async session(eid: string, commands: readonly CommandApdu[], deadline: number): Promise<ResponseApdu[]> {
    if (this.now() >= deadline) throw new Es5Error.Timeout(`the deadline for ${eid} passed before the card was reached`);
    const session = new Es5Session(await this.options.keys(eid));
    const opened = await this.options.carrier.exchange(eid, session.openingScript(), deadline);
    const answered = await this.options.carrier.exchange(eid, session.commandScript(opened, commands), deadline);
    return session.responses(answered);
  }
}
