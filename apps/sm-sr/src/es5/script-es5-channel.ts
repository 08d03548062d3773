/**
 * {@link Es5Channel} over anything that carries one TS 102 226 command script to a card and brings its
 * response script back ({@link ScriptCarrier}: MQTT in production, an in-process card pool in tests).
 *
 * Exchanges with one card are serialised: a second session's SELECT would end the first one's SCP03
 * session on the card (GP CS §11.9), so two SM-DPs working on the same eUICC queue here, not collide there.
 *
 * One round trip per exchange when it can (es5-session.ts, scripted sessions): the channel remembers the
 * ISD-R sequence counter each card last used, in memory. A card it never spoke to is assumed fresh from
 * manufacture (counter 0, so its first session uses 1). Wrong (an older card after a restart, another
 * instance spoke to the card, a reply was lost) costs one more round trip, never a failure.
 */
import type { IsdRKeySet } from '@rsp/offcard';
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

/** The ISD-R sequence counter of a card fresh from manufacture (libs/card manufacture.ts; GP Amd D §6.2.2.1). */
const MANUFACTURED_COUNTER = 0;

export interface ScriptEs5ChannelOptions {
  carrier: ScriptCarrier;
  keys: IsdRKeyProvider;
  /** Longest wait for a card when the caller gives no deadline. Default 10 s. */
  defaultTimeoutMs?: number;
  now?: () => number;
}

export class ScriptEs5Channel implements Es5Channel {
  private readonly queues = new Map<string, Promise<unknown>>();
  /** The ISD-R sequence counter each card used last (GP Amd D §6.2.2.1): the next session predicts + 1. */
  private readonly counters = new Map<string, number>();
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
    const keys = await this.options.keys(eid);
    const known = this.counters.get(eid) ?? MANUFACTURED_COUNTER;
    this.counters.delete(eid); // until this exchange tells the counter again (a lost reply leaves it unknown)
    if (known < 0xffffff) {
      const scripted = new Es5Session(keys);
      const outcome = scripted.scriptedResponses(await this.options.carrier.exchange(eid, scripted.scriptedScript(known + 1, commands), deadline));
      if ('responses' in outcome) {
        this.counters.set(eid, outcome.sequenceCounter);
        return outcome.responses;
      }
      if (outcome.resync < 0xffffff) {
        // Wrong prediction: the card refused EXTERNAL AUTHENTICATE, nothing ran. Predict from its counter.
        const again = new Es5Session(keys);
        const retried = again.scriptedResponses(await this.options.carrier.exchange(eid, again.scriptedScript(outcome.resync + 1, commands), deadline));
        if ('responses' in retried) {
          this.counters.set(eid, retried.sequenceCounter);
          return retried.responses;
        }
      }
    }
    const session = new Es5Session(keys);
    const opened = await this.options.carrier.exchange(eid, session.openingScript(), deadline);
    const { script, sequenceCounter } = session.commandScript(opened, commands);
    const answered = await this.options.carrier.exchange(eid, script, deadline);
    const responses = session.responses(answered);
    if (sequenceCounter !== undefined) this.counters.set(eid, sequenceCounter);
    return responses;
  }
}
