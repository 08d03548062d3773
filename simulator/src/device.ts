/**
 * Devices around the virtual eUICC: an oven (Wi-Fi first, cellular as backup), a barbecue (cellular
 * only) and a generic M2M module (cellular only). The device tracks its connectivity, decides when
 * the card must fall back (SGP.02 §3.x "Fall-back": the enabled profile lost its network and the
 * device has no other way out), runs network attaches (Milenage AKA, TS 33.102 §6.3) through the card
 * and turns card and transport events into {@link DeviceEvent}s for the device under test.
 *
 * {@link DeviceHandle} is the SDK class: it never exposes key material, only identifiers.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { enabledIsdp, type CardEvent, type CardState } from '@rsp/card';
import { buildAutn, milenage } from '@rsp/crypto';
import { lifeCycleName } from '@rsp/offcard';
import { decodeResponseApdu, encodeCommandApdu } from '@rsp/tlv';
import type { CardPool } from './card-host';

export type DeviceModel = 'oven' | 'bbq' | 'generic';
export const DEVICE_MODELS: readonly DeviceModel[] = ['oven', 'bbq', 'generic'];

export interface Connectivity {
  wifi: 'up' | 'down';
  /** Coverage of the enabled profile's network. */
  cellularCoverage: boolean;
}

/** What the device under test sees. Every event carries the EID and an ISO timestamp. */
export type DeviceEvent = { eid: string; at: string } & (
  | { type: 'refresh'; reason: string }
  | { type: 'profile-switched'; fromAid?: string; toAid?: string; iccid?: string }
  | { type: 'fallback-triggered'; fromAid?: string; toAid?: string }
  | { type: 'profile-installed'; aid: string; iccid: string }
  | { type: 'attach'; result: 'ok' | 'mac-failure' | 'sync-failure' | 'no-coverage' | 'no-profile' | 'unsupported'; imsi?: string }
  | { type: 'notification-queued'; seq: number; notificationType: number }
  | { type: 'notification-sent'; seq: number; attempt: number }
  | { type: 'notification-delivered'; seq: number }
  | { type: 'connectivity'; wifi: 'up' | 'down'; cellularCoverage: boolean }
  | { type: 'power-loss'; step: string }
  | { type: 'es5-script'; id: string; executed: number }
  /** A command the card dropped unanswered: its reply topic named another card or another SM-SR. */
  | { type: 'es5-refused'; id: string; reason: string }
);

/** Distributes Omit over the union (plain Omit would collapse it). */
export type DeviceEventBody = DeviceEvent extends infer E ? (E extends DeviceEvent ? Omit<E, 'eid' | 'at'> : never) : never;

/** Maps a card event to the device event the device under test sees (SGP.02 §4.1 REFRESH etc.). */
export function deviceEventFromCard(event: CardEvent): DeviceEventBody {
  switch (event.type) {
    case 'refresh':
      return { type: 'refresh', reason: event.reason };
    case 'profile-switched':
      return { type: 'profile-switched', ...pick(event, ['fromAid', 'toAid', 'iccid']) };
    case 'fallback-triggered':
      return { type: 'fallback-triggered', toAid: event.toAid, ...pick(event, ['fromAid']) };
    case 'profile-installed':
      return { type: 'profile-installed', aid: event.aid, iccid: event.iccid };
    case 'notification-queued':
      return { type: 'notification-queued', seq: event.seq, notificationType: event.notificationType };
    case 'notification-acknowledged':
      return { type: 'notification-delivered', seq: event.seq };
    case 'attach':
      return { type: 'attach', result: event.result, ...pick(event, ['imsi']) };
  }
}

function pick<T extends object, K extends keyof T>(source: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}

/** Public, secret-free view of a profile. */
export interface ProfileSummary {
  aid: string;
  /** GP coding (0x07, 0x0F, 0x1F, 0x3F) … */
  lifeCycle: number;
  /** … and its name (SELECTABLE, PERSONALIZED, DISABLED, ENABLED). */
  lifeCycleName: string;
  fallback: boolean;
  iccid?: string;
  imsi?: string;
}

export interface DeviceInfo {
  eid: string;
  model: DeviceModel;
  connectivity: Connectivity;
  enabled?: { aid: string; iccid?: string; imsi?: string };
  profiles: ProfileSummary[];
  pendingNotifications: number;
}

/** Summarises a card state without any key material (keys, K/OPc, packages are never copied). */
export function summariseCard(state: CardState): Pick<DeviceInfo, 'enabled' | 'profiles' | 'pendingNotifications'> {
  const profiles = state.isdps.map((isdp): ProfileSummary => ({
    aid: isdp.aid,
    lifeCycle: isdp.lifeCycle,
    lifeCycleName: lifeCycleName(isdp.lifeCycle),
    fallback: isdp.fallback,
    ...(isdp.profile ? { iccid: isdp.profile.iccid, imsi: isdp.profile.imsi } : {}),
  }));
  const enabled = enabledIsdp(state);
  return {
    profiles,
    pendingNotifications: state.notifications.pending.length,
    ...(enabled ? { enabled: { aid: enabled.aid, ...(enabled.profile ? { iccid: enabled.profile.iccid, imsi: enabled.profile.imsi } : {}) } } : {}),
  };
}

/** USIM application AID prefix (ETSI TS 101 220 Annex E: RID A000000087, app code 1002). */
const USIM_AID_PREFIX = Buffer.from('A0000000871002', 'hex');

export interface DeviceHandleOptions {
  now?: () => Date;
  random?: (length: number) => Buffer;
}

/**
 * One simulated device hosting one eUICC of a {@link CardPool}. Created on demand by the fleet, so
 * idle cards cost no device object.
 */
export class DeviceHandle extends EventEmitter<{ event: [DeviceEvent] }> {
  /** True while attach() runs (card events arrive synchronously inside its transmits). */
  private attaching = false;
  private connectivity: Connectivity = { wifi: 'up', cellularCoverage: true };
  private readonly now: () => Date;
  private readonly random: (length: number) => Buffer;

  constructor(
    readonly eid: string,
    readonly model: DeviceModel,
    private readonly pool: CardPool,
    options: DeviceHandleOptions = {},
  ) {
    super();
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? randomBytes;
    if (model !== 'oven') this.connectivity.wifi = 'down'; // bbq and generic have no Wi-Fi radio
  }

  /** Emits a device event (used by the pool wiring and the transports). */
  publish(body: DeviceEventBody): void {
    this.emit('event', { ...body, eid: this.eid, at: this.now().toISOString() } as DeviceEvent);
  }

  /** Subscribes to device events; returns the unsubscribe function. */
  watch(listener: (event: DeviceEvent) => void): () => void {
    this.on('event', listener);
    return () => this.off('event', listener);
  }

  info(): DeviceInfo {
    return { eid: this.eid, model: this.model, connectivity: { ...this.connectivity }, ...summariseCard(this.pool.snapshot(this.eid)) };
  }

  /** EID / ICCID / IMSI of the enabled profile, nothing else. */
  identity(): { eid: string; iccid?: string; imsi?: string } {
    const enabled = this.info().enabled;
    return { eid: this.eid, ...(enabled?.iccid ? { iccid: enabled.iccid } : {}), ...(enabled?.imsi ? { imsi: enabled.imsi } : {}) };
  }

  getConnectivity(): Connectivity {
    return { ...this.connectivity };
  }

  /** True when the device has any path to the SM-SR (Wi-Fi for the oven, else the cellular network). */
  reachable(): boolean {
    return (this.model === 'oven' && this.connectivity.wifi === 'up') || this.connectivity.cellularCoverage;
  }

  /** Whether this device depends on the cellular network right now. */
  dependsOnCellular(): boolean {
    return this.model !== 'oven' || this.connectivity.wifi === 'down';
  }

  /**
   * Changes connectivity. When the enabled profile has no coverage and the device depends on
   * cellular, the card is told (`connectivityLost`, SGP.02 fall-back). Returns whether fall-back was
   * triggered.
   */
  setConnectivity(change: { wifi?: boolean | 'up' | 'down'; cellular?: boolean }): boolean {
    if (change.wifi !== undefined) this.connectivity.wifi = change.wifi === true || change.wifi === 'up' ? 'up' : 'down';
    if (change.cellular !== undefined) this.connectivity.cellularCoverage = change.cellular;
    if (this.model !== 'oven') this.connectivity.wifi = 'down';
    this.publish({ type: 'connectivity', ...this.connectivity });
    if (!this.connectivity.cellularCoverage && this.dependsOnCellular()) return this.pool.connectivityLost(this.eid);
    return false;
  }

  setCoverage(cellular: boolean): boolean {
    return this.setConnectivity({ cellular });
  }

  /**
   * Attaches to the enabled profile's network: plays the network side of AKA (TS 33.102 §6.3.2) with the
   * profile's K/OPc (read inside this method, never returned), sends AUTHENTICATE (TS 31.102 §7.1.2,
   * `00 88 00 81`, 3G context) to the USIM through `transmit`, and checks RES against XRES.
   */
  attach(): DeviceEvent {
    this.attaching = true;
    try {
      return this.runAttach();
    } finally {
      this.attaching = false;
    }
  }

  private runAttach(): DeviceEvent {
    const state = this.pool.snapshot(this.eid);
    const enabled = enabledIsdp(state);
    const result = (body: DeviceEventBody): DeviceEvent => {
      this.publish(body);
      return { ...body, eid: this.eid, at: this.now().toISOString() } as DeviceEvent;
    };
    if (!enabled?.profile) return result({ type: 'attach', result: 'no-profile' });
    const { imsi, ki, opc, sqnMs } = enabled.profile;
    if (!this.connectivity.cellularCoverage) return result({ type: 'attach', result: 'no-coverage', imsi });
    const k = Buffer.from(ki, 'hex');
    const opcBytes = Buffer.from(opc, 'hex');
    const rand = this.random(16);
    const sqn = incrementSqn(Buffer.from(sqnMs, 'hex'));
    const amf = Buffer.from('8000', 'hex'); // AMF separation bit set, as for E-UTRAN (TS 33.401 Annex H)
    const autn = buildAutn({ k, opc: opcBytes, rand, sqn, amf });
    const xres = milenage({ k, opc: opcBytes, rand, sqn, amf }).res;

    const select = this.pool.transmit(
      this.eid,
      encodeCommandApdu({ cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x04, data: USIM_AID_PREFIX, le: 256 }),
    );
    const selectSw = decodeResponseApdu(select).sw;
    if (selectSw !== 0x9000 && selectSw >> 8 !== 0x61) return result({ type: 'attach', result: 'unsupported', imsi });
    const data = Buffer.concat([Buffer.of(rand.length), rand, Buffer.of(autn.length), autn]);
    const response = decodeResponseApdu(
      this.pool.transmit(this.eid, encodeCommandApdu({ cla: 0x00, ins: 0x88, p1: 0x00, p2: 0x81, data, le: 256 })),
    );
    if (response.sw === 0x9862) return result({ type: 'attach', result: 'mac-failure', imsi }); // TS 31.102 §7.1.2
    if (response.sw !== 0x9000) return result({ type: 'attach', result: 'unsupported', imsi });
    // Response: DB L RES L CK L IK [L Kc] (success) or DC L AUTS (synchronisation failure).
    if (response.data[0] === 0xdc) return result({ type: 'attach', result: 'sync-failure', imsi });
    const resLength = response.data[1] ?? 0;
    const res = response.data.subarray(2, 2 + resLength);
    return result({ type: 'attach', result: response.data[0] === 0xdb && res.equals(xres) ? 'ok' : 'mac-failure', imsi });
  }

  /** Forwards a card event (wired by the fleet). */
  onCardEvent(event: CardEvent): void {
    // The USIM reports its side of AUTHENTICATE; during the device's own attach the network's verdict
    // (published by attach()) is the one event of that attach. A raw AUTHENTICATE still reports the card's.
    if (event.type === 'attach' && this.attaching) return;
    this.publish(deviceEventFromCard(event));
  }
}

function incrementSqn(sqnMs: Buffer): Buffer {
  const value = (BigInt(`0x${sqnMs.toString('hex') || '0'}`) + 32n) & 0xffffffffffffn; // next SEQ, IND 0 (TS 33.102 Annex C)
  return Buffer.from(value.toString(16).padStart(12, '0'), 'hex');
}
