/**
 * A pool of virtual eUICCs that keeps idle cards cheap: a card lives as its stored state (or, in a
 * fleet, as a lazily expanded manufacturing recipe) and is hydrated into a `VirtualEuicc` only when a
 * message arrives. Hydrated cards sit in a small LRU. The devices stay powered, so evicting a card
 * loses nothing an exchange still to come needs: a card between the two steps of a key establishment, or
 * in a download, is parked (`VirtualEuicc.park`, its waiting volatile state kept apart) and resumed as it
 * was. Anything else volatile (selection, the ES5 session) goes, as every script starts with SELECT.
 * Only a fault plan's power loss, or {@link CardPool.evictAll}, cuts the power.
 *
 * Transports (MQTT, the device API) and device models reach cards only through a {@link CardPool}.
 */
import { EventEmitter } from 'node:events';
import { RspError } from '@rsp/errors';
import { VirtualEuicc, type CardEvent, type CardState, type CardStore, type CommandHandler, type NotificationState, type ParkedExchange } from '@rsp/card';
import { PowerLoss } from '@rsp/offcard';
import type { FaultPlanRunner } from './faults';

export interface CardPoolOptions {
  store: CardStore;
  /** Most hydrated cards kept in memory (default 1000). */
  maxHydrated?: number;
  /**
   * Most evicted cards whose waiting state is kept (default 100 000; one per card at most, a challenge and a
   * certificate, or a partial download). Beyond it the oldest loses it, as a power cut would: a bound for
   * exchanges abandoned midway.
   */
  maxParked?: number;
  faults?: FaultPlanRunner;
  now?: () => Date;
  random?: (length: number) => Buffer;
  /** Replaces the card's command table (tests). */
  commands?: readonly CommandHandler[];
}

/** A store that can list an idle card's notifications without building its whole state (fleets). */
export interface NotificationSource {
  pendingNotifications(eid: string): readonly NotificationState[] | undefined;
}

export interface CardPoolEvents {
  /** Every event of every hydrated card, tagged with its EID. */
  'card-event': [eid: string, event: CardEvent];
  /** A fault plan cut the power at `step` while the card processed a command. */
  'power-loss': [eid: string, step: string];
}

export class CardPool extends EventEmitter<CardPoolEvents> {
  private readonly known = new Set<string>();
  /** Insertion order = recency order (Map iteration order), for a cheap LRU. */
  private readonly hydrated = new Map<string, VirtualEuicc>();
  private readonly maxHydrated: number;
  /** Evicted cards waiting on a later exchange, oldest first. */
  private readonly parked = new Map<string, ParkedExchange>();
  private readonly maxParked: number;

  constructor(private readonly options: CardPoolOptions) {
    super();
    this.maxHydrated = options.maxHydrated ?? 1000;
    this.maxParked = options.maxParked ?? 100_000;
  }

  /** Makes a card whose state is already in the store (or its recipe) known to the pool. */
  register(eid: string): void {
    this.known.add(eid);
  }

  /** Stores a manufactured state and registers it. */
  add(state: CardState): void {
    this.options.store.save(state);
    this.known.add(state.eid);
  }

  has(eid: string): boolean {
    return this.known.has(eid);
  }

  get size(): number {
    return this.known.size;
  }

  get hydratedCount(): number {
    return this.hydrated.size;
  }

  /** Evicted cards whose waiting volatile state is kept for their next exchange. */
  get parkedCount(): number {
    return this.parked.size;
  }

  eids(): IterableIterator<string> {
    return this.known.values();
  }

  /**
   * Runs `fn` with the hydrated card. A PowerLoss from the card is reported as a 'power-loss' event
   * and rethrown so the transport sends nothing.
   */
  withCard<T>(eid: string, fn: (card: VirtualEuicc) => T): T {
    const card = this.hydrate(eid);
    try {
      return fn(card);
    } catch (error) {
      if (error instanceof PowerLoss) this.emit('power-loss', eid, error.step);
      throw error;
    }
  }

  /** One C-APDU → R-APDU on card `eid`. */
  transmit(eid: string, apdu: Uint8Array): Buffer {
    return this.withCard(eid, (card) => card.transmit(apdu));
  }

  /** The persistent state (secrets included: callers must redact before showing it). */
  snapshot(eid: string): CardState {
    const live = this.hydrated.get(eid);
    if (live) return live.snapshot();
    const state = this.options.store.load(eid);
    if (!state) throw new UnknownCardError(eid);
    return state;
  }

  pendingNotifications(eid: string): readonly NotificationState[] {
    if (!this.hydrated.has(eid)) {
      const fast = (this.options.store as Partial<NotificationSource>).pendingNotifications?.(eid);
      if (fast) return fast;
    }
    const live = this.hydrated.get(eid);
    return live ? live.pendingNotifications() : this.snapshot(eid).notifications.pending;
  }

  /**
   * Tells the card its network is gone: the ISD-R enables the fall-back profile (SGP.02 fall-back).
   * Returns whether the card switched. A power loss during the switch is reported ('power-loss') and
   * counts as no switch.
   */
  connectivityLost(eid: string): boolean {
    try {
      return this.withCard(eid, (card) => card.connectivityLost());
    } catch (error) {
      if (error instanceof PowerLoss) return false;
      throw error;
    }
  }

  /** Powers off every card (volatile state lost, parked included; stored state kept). */
  evictAll(): void {
    for (const card of this.hydrated.values()) card.removeAllListeners('event');
    this.hydrated.clear();
    this.parked.clear();
  }

  private hydrate(eid: string): VirtualEuicc {
    const existing = this.hydrated.get(eid);
    if (existing) {
      this.hydrated.delete(eid); // refresh recency
      this.hydrated.set(eid, existing);
      return existing;
    }
    if (!this.known.has(eid)) throw new UnknownCardError(eid);
    const { store, now, random, commands, faults } = this.options;
    const parked = this.parked.get(eid);
    this.parked.delete(eid);
    const card = VirtualEuicc.load(eid, {
      store,
      ...(parked ? { parked } : {}),
      ...(now ? { now } : {}),
      ...(random ? { random } : {}),
      ...(commands ? { commands } : {}),
      ...(faults ? { faults: faults.forDevice(eid).cardFaults() } : {}),
    });
    card.on('event', (event) => this.emit('card-event', eid, event));
    this.hydrated.set(eid, card);
    while (this.hydrated.size > this.maxHydrated) this.evictOldest();
    return card;
  }

  private evictOldest(): void {
    const [eid, card] = this.hydrated.entries().next().value as [string, VirtualEuicc];
    card.removeAllListeners('event');
    this.hydrated.delete(eid);
    const waiting = card.park();
    if (!waiting) return;
    this.parked.set(eid, waiting);
    if (this.parked.size > this.maxParked) this.parked.delete(this.parked.keys().next().value as string);
  }
}

export class UnknownCardError extends RspError {
  static override readonly code = 'ERR_SIM_UNKNOWN_EID';
  constructor(readonly eid: string) {
    super(`no card with EID ${eid}`);
  }
}
