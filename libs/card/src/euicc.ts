/**
 * The virtual eUICC: a byte-level card. `transmit` takes a C-APDU and returns the R-APDU, exactly as
 * a real card reader would; the card does not know whether it is driven over MQTT, HTTP or a test.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { eckaKeyPairFromPkcs8, type EckaKeyPair } from '@rsp/crypto';
import type { CardEnvironment, CardEvent, CardFaults, CommandHandler, VolatileState } from './context';
import { dispatch } from './dispatcher';
import { PowerLoss } from '@rsp/offcard';
import { triggerFallback } from './fallback';
import { CARD_COMMANDS } from './handlers';
import { ISDP_LIFE_CYCLE, type CardState, type NotificationState } from './model';
import type { CardStore } from './store';

export interface VirtualEuiccOptions {
  store: CardStore;
  /** Injected clock and randomness make runs reproducible. */
  now?: () => Date;
  random?: (length: number) => Buffer;
  faults?: CardFaults;
  /** Replaces the command table (tests of single handlers). */
  commands?: readonly CommandHandler[];
  /** What {@link VirtualEuicc.park} kept when a host took this powered card out of memory. */
  parked?: ParkedExchange;
}

/** The volatile state of a card whose next exchange needs it (opaque to hosts: {@link VirtualEuicc.park}). */
export interface ParkedExchange {
  readonly volatile: VolatileState;
}

export interface VirtualEuiccEvents {
  event: [CardEvent];
}

export class VirtualEuicc extends EventEmitter<VirtualEuiccEvents> {
  private state: CardState;
  /** JSON text of `state`, kept between commands so dispatch need not re-serialise it (undefined: stale). */
  private stateJson: string | undefined;
  private volatile: VolatileState = freshVolatile();
  private readonly env: CardEnvironment;
  private readonly commands: readonly CommandHandler[];
  private keyAgreement: EckaKeyPair | undefined;

  /** Boots a card from its stored state (a power-on), or resumes a parked one (`options.parked`). */
  static load(eid: string, options: VirtualEuiccOptions): VirtualEuicc {
    const state = options.store.load(eid);
    if (!state) throw new Error(`no stored card ${eid}`);
    return new VirtualEuicc(state, options);
  }

  /** Stores a freshly manufactured card state and boots it. */
  static manufacture(state: CardState, options: VirtualEuiccOptions): VirtualEuicc {
    options.store.save(state);
    return new VirtualEuicc(state, options);
  }

  private constructor(
    initial: CardState,
    private readonly options: VirtualEuiccOptions,
  ) {
    super();
    this.state = initial;
    if (options.parked) this.volatile = options.parked.volatile;
    this.commands = options.commands ?? CARD_COMMANDS;
    this.env = {
      now: options.now ?? (() => new Date()),
      random: options.random ?? randomBytes,
      ecasdKeyAgreement: () => {
        this.keyAgreement ??= eckaKeyPairFromPkcs8(Buffer.from(this.state.ecasd.privateKey, 'hex'));
        return this.keyAgreement;
      },
      faults: options.faults ?? {},
    };
  }

  get eid(): string {
    return this.state.eid;
  }

  /** A read-only snapshot of the persistent state (contains secrets: never log it as is). */
  snapshot(): CardState {
    return structuredClone(this.state);
  }

  /** Copies of the notifications not yet confirmed (SGP.02 §5.7), without a copy of the whole state. */
  pendingNotifications(): NotificationState[] {
    return this.state.notifications.pending.map((notification) => ({ ...notification }));
  }

  /**
   * Processes one C-APDU. A power loss injected by the fault plan reboots the card (volatile state
   * lost, persistent state as last committed) and is rethrown: the caller gets no R-APDU.
   */
  transmit(apdu: Uint8Array): Buffer {
    // The dispatcher changes the state in place: its last committed text is the way back.
    const lastCommitted = (this.stateJson ??= JSON.stringify(this.state));
    let result;
    try {
      result = dispatch(this.commands, this.state, this.volatile, this.env, apdu, lastCommitted);
    } catch (error) {
      if (error instanceof PowerLoss) this.powerCycle();
      else this.state = JSON.parse(lastCommitted) as CardState; // a handler's bug: nothing half-done stays
      throw error;
    }
    if (result.restored) this.state = result.restored;
    if (result.committed) {
      try {
        this.options.store.save(result.committed, result.committedJson); // atomic: old or new state after a crash, never a mix
      } catch (error) {
        this.state = JSON.parse(lastCommitted) as CardState; // not saved, not done
        throw error;
      }
      this.state = result.committed;
      this.stateJson = result.committedJson;
    }
    for (const event of result.events) this.emit('event', event);
    return result.response;
  }

  /**
   * The device reports that the enabled profile lost connectivity: the ISD-R enables the fall-back
   * profile (SGP.02 fall-back, overriding POL1), committed like a command. Returns false when there
   * was nothing to switch to. A power loss injected at step 'fallback' reboots the card.
   */
  connectivityLost(reason = 'connectivity-lost'): boolean {
    const draft = structuredClone(this.state);
    const events: CardEvent[] = [];
    let switched: boolean;
    try {
      switched = triggerFallback(
        {
          state: draft,
          volatile: this.volatile,
          env: this.env,
          emit: (event) => events.push(event),
          step: (name) => {
            if (this.env.faults.powerLossAt?.(name)) throw new PowerLoss(name);
          },
        },
        reason,
      );
    } catch (error) {
      if (error instanceof PowerLoss) this.powerCycle();
      throw error;
    }
    if (!switched) return false;
    this.options.store.save(draft);
    this.state = draft;
    this.stateJson = undefined;
    for (const event of events) this.emit('event', event);
    return true;
  }

  /**
   * The volatile state an off-card entity will use in a later exchange, when the card holds any: a
   * 3A01 challenge awaiting its 3A02 (the ISD-R's, SGP.02 §3.8 [U numbering], or an ISD-P's, §3.1.2:
   * the off-card side signs the challenge between two scripts), or an SCP03t download under way into a
   * PERSONALIZED ISD-P (§3.1.3). Undefined when nothing waits: every script starts with SELECT ISD-R,
   * which ends the ES5 session and the personalization target, so the next exchange needs nothing else.
   *
   * A host that takes a powered card out of memory (simulator card-host.ts, an LRU) keeps this and hands
   * it back to {@link load}: the device never lost power, so the card must not lose what it was waiting
   * on. Dropping it turned every eviction between the two steps of a key establishment into a 6985.
   */
  park(): ParkedExchange | undefined {
    return awaitsLaterExchange(this.volatile, this.state) ? { volatile: this.volatile } : undefined;
  }

  /** Power off and on: sessions, selection and download buffers are lost; stored state is reloaded. */
  powerCycle(): void {
    this.volatile = freshVolatile();
    // Without a stored copy, the last committed text (the live object may hold a half-done command).
    const lastCommitted = this.stateJson;
    this.state = this.options.store.load(this.state.eid) ?? (lastCommitted === undefined ? this.state : (JSON.parse(lastCommitted) as CardState));
    this.stateJson = undefined;
  }
}

function awaitsLaterExchange(volatile: VolatileState, state: CardState): boolean {
  if (volatile.isdRKeyEstablishment !== undefined) return true;
  for (const [aid, session] of volatile.isdpSessions) {
    if (session.challenge !== undefined || session.download !== undefined) return true;
    if (session.scp03t && state.isdps.some((isdp) => isdp.aid === aid && isdp.lifeCycle === ISDP_LIFE_CYCLE.PERSONALIZED)) return true;
  }
  return false;
}

function freshVolatile(): VolatileState {
  return { selected: 'isd-r', isdpSessions: new Map() };
}
