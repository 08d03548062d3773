/**
 * Fleets: N devices, each with a virtual eUICC manufactured under ONE test PKI's EUM (EIDs from one
 * EUM prefix, CERT.ECASD.ECKA issued by the EUM key, SGP.02 §2.3 / §4.1.3).
 *
 * Idle cards are cheap: at manufacture we keep only a *recipe* (the ECASD private key as PKCS#8 DER
 * and its GP certificate, ~400 bytes); the full CardState is expanded by `manufactureCardState` when a
 * card is first hydrated, and stored (as JSON) only once it changed. Devices (DeviceHandle) are
 * created on first use too. See bench/fleet.ts for the figures.
 */
import { createECDH, createHash, type KeyObject } from 'node:crypto';
import { importRawPrivateKey } from '@rsp/crypto';
import {
  NOTIFICATION_TYPE,
  defaultIsdRKeySet,
  encodeNotification,
  manufactureCardState,
  type NotificationState,
  type BootstrapProfile,
  type CardState,
  type CardStore,
  type CommandHandler,
} from '@rsp/card';
import {
  DEMO_EID_FIRST_SERIAL,
  DEMO_EID_PREFIX,
  GP_ROLE,
  generateEid,
  generateIccid,
  generateTestPki,
  gpDiscretionaryData,
  issueGpCertificate,
  type TestPki,
} from '@rsp/pki';
import { CardPool } from './card-host';
import { DeviceHandle, type DeviceModel } from './device';
import { FaultPlanRunner, type FaultPlan } from './faults';
import { MqttEs5Bridge, type MqttEs5Options } from './mqtt-es5';

/**
 * The idle fleet, compactly: every card's private scalar d in one slab (32 bytes per card), its index by
 * EID, and its CERT.ECASD.ECKA once issued. Changed states are kept as JSON (or in `backing`).
 */
export class RecipeCardStore implements CardStore {
  private scalars = Buffer.alloc(0);
  private readonly indexOf = new Map<string, number>();
  private readonly certificates: Array<Buffer | undefined> = [];
  private readonly changed = new Map<string, string>();

  constructor(
    private readonly expand: (eid: string, index: number, d: Buffer) => CardState,
    private readonly issueCertificate: (d: Buffer) => Buffer,
    private readonly declaration: (eid: string) => NotificationState,
    private readonly backing?: CardStore,
  ) {}

  /** Reserves room for `count` more cards (one slab, no per-card Buffer objects). */
  reserve(count: number): void {
    const grown = Buffer.alloc(this.scalars.length + count * 32);
    this.scalars.copy(grown);
    this.scalars = grown;
  }

  addRecipe(eid: string, d: Buffer, certificate?: Buffer): number {
    const index = this.indexOf.size;
    if ((index + 1) * 32 > this.scalars.length) this.reserve(Math.max(1024, index));
    d.copy(this.scalars, index * 32);
    this.indexOf.set(eid, index);
    this.certificates[index] = certificate;
    return index;
  }

  /** SK.ECASD.ECKA scalar of card `index` (a view into the slab). @secret */
  private scalar(index: number): Buffer {
    return this.scalars.subarray(index * 32, index * 32 + 32);
  }

  /** CERT.ECASD.ECKA of `eid`, issued by the EUM on first request when the fleet was made lazily. */
  certificate(eid: string): Buffer | undefined {
    const text = this.changed.get(eid);
    const stored = text !== undefined ? (JSON.parse(text) as CardState) : this.backing?.load(eid);
    if (stored) return Buffer.from(stored.ecasd.certificate, 'hex'); // a state written earlier wins over the recipe
    const index = this.indexOf.get(eid);
    if (index === undefined) return undefined;
    let cert = this.certificates[index];
    if (!cert) this.certificates[index] = cert = this.issueCertificate(this.scalar(index));
    return cert;
  }

  /**
   * Pending notifications without expanding an untouched card: a card never changed still holds only
   * its manufacture-time eUICC declaration (seq 1), so announcing 100k idle cards costs no expansion.
   * (fleet.spec.ts checks this equals the expanded state's list.)
   */
  pendingNotifications(eid: string): readonly NotificationState[] | undefined {
    if (this.changed.has(eid) || this.backing?.load(eid)) return undefined; // let the caller load the state
    const index = this.indexOf.get(eid);
    if (index === undefined) return undefined;
    return [this.declaration(eid)];
  }

  /** The recipe's certificate (issued by {@link load} before expansion). */
  recipeCertificate(index: number): Buffer {
    const cert = this.certificates[index];
    if (!cert) throw new RangeError(`no certificate issued for card #${index}`);
    return cert;
  }

  load(eid: string): CardState | undefined {
    const text = this.changed.get(eid);
    if (text !== undefined) return JSON.parse(text) as CardState;
    const stored = this.backing?.load(eid);
    if (stored) return stored;
    const index = this.indexOf.get(eid);
    if (index === undefined) return undefined;
    this.certificates[index] ??= this.issueCertificate(this.scalar(index));
    return this.expand(eid, index, this.scalar(index));
  }

  save(state: CardState): void {
    if (this.backing) this.backing.save(state);
    else this.changed.set(state.eid, JSON.stringify(state));
  }

  get changedCount(): number {
    return this.changed.size;
  }
}

export interface FleetOptions {
  size: number;
  model: DeviceModel;
  /** The PKI whose EUM issues the ECASD certificates (default: a fresh P-256 test PKI). */
  pki?: TestPki;
  /** EID prefix (default the SGP.26 demo prefix) and first serial. */
  eidPrefix?: string;
  firstSerial?: number;
  /** Where changed states persist (default: memory). */
  backingStore?: CardStore;
  maxHydrated?: number;
  faults?: FaultPlan;
  /** Replaces the card command table (tests). */
  commands?: readonly CommandHandler[];
  /** Ship every card with a bootstrap (fall-back) profile. Default true. */
  bootstrapProfile?: boolean;
  /** Manufacturing time (fixed, so expanded recipes are identical every time). */
  now?: Date;
  /**
   * 'eager' (default) issues every CERT.ECASD.ECKA at manufacture (~5.5k/s on one core: raw ECDH keys,
   * one EUM signature each); 'lazy' issues it on first use (state expansion or {@link Fleet.ecasdCertificate}).
   */
  certificates?: 'eager' | 'lazy';
  /** Called every `progressEvery` cards (default 1000) during manufacture. */
  onProgress?: (done: number, total: number) => void;
  progressEvery?: number;
}


/** TEST network credentials of the bootstrap profile of card `serial` (public derivation: demo only). */
export function bootstrapProfileFor(eid: string, serial: number): BootstrapProfile {
  const derive = (label: string): Buffer => createHash('sha256').update(`rsp-sim-test:${label}:${eid}`).digest().subarray(0, 16);
  return {
    iccid: generateIccid('8900100', serial % 1e11, 19), // 89 001 00: test network MCC 001, issuer 00
    imsi: `00101${String(serial % 1e10).padStart(10, '0')}`, // MCC 001 / MNC 01: ITU-T test network
    ki: derive('ki'),
    opc: derive('opc'),
  };
}

export class Fleet {
  readonly pool: CardPool;
  readonly store: RecipeCardStore;
  readonly faults: FaultPlanRunner | undefined;
  private readonly eidList: string[] = [];
  private readonly devices = new Map<string, DeviceHandle>();
  private bridge: MqttEs5Bridge | undefined;
  private readonly timers: NodeJS.Timeout[] = [];

  private constructor(
    readonly model: DeviceModel,
    readonly pki: TestPki,
    options: FleetOptions,
  ) {
    const now = options.now ?? new Date();
    const bootstrap = options.bootstrapProfile ?? true;
    const firstSerial = Fleet.firstSerial(options);
    this.store = new RecipeCardStore(
      (eid, index, d) =>
        manufactureCardState({
          eid,
          curve: pki.curve,
          ecasdPrivateKey: importRawPrivateKey(pki.curve, d),
          ecasdCertificate: this.store.recipeCertificate(index),
          ciCertificate: pki.ci.der,
          isdRKeySets: [defaultIsdRKeySet(eid)],
          ...(bootstrap ? { bootstrapProfile: bootstrapProfileFor(eid, firstSerial + index) } : {}),
          now,
        }),
      ecasdIssuer(pki),
      (eid) => ({
        seq: 1,
        type: NOTIFICATION_TYPE.EUICC_DECLARATION,
        tlv: encodeNotification(eid, NOTIFICATION_TYPE.EUICC_DECLARATION, 1).toString('hex'),
        createdAt: now.toISOString(),
        attempts: 0,
      }),
      options.backingStore,
    );
    this.faults = options.faults ? new FaultPlanRunner(options.faults) : undefined;
    this.pool = new CardPool({
      store: this.store,
      ...(options.maxHydrated !== undefined ? { maxHydrated: options.maxHydrated } : {}),
      ...(this.faults ? { faults: this.faults } : {}),
      ...(options.commands ? { commands: options.commands } : {}),
    });
    this.pool.on('card-event', (eid, event) => this.devices.get(eid)?.onCardEvent(event));
    this.pool.on('power-loss', (eid, step) => this.devices.get(eid)?.publish({ type: 'power-loss', step }));
  }

  /** Manufactures the fleet; yields to the event loop between batches so progress can be drawn. */
  static async create(options: FleetOptions): Promise<Fleet> {
    const pki = options.pki ?? generateTestPki({ curve: 'P-256', euiccCount: 0 });
    const fleet = new Fleet(options.model, pki, options);
    const prefix = options.eidPrefix ?? DEMO_EID_PREFIX;
    const first = Fleet.firstSerial(options);
    const eager = options.certificates !== 'lazy';
    const issue = ecasdIssuer(pki);
    const every = options.progressEvery ?? 1000;
    const keyGen = createECDH(pki.curve === 'P-256' ? 'prime256v1' : 'brainpoolP256r1');
    fleet.store.reserve(options.size);
    for (let i = 0; i < options.size; i += 1) {
      const eid = generateEid(prefix, first + i);
      keyGen.generateKeys(); // raw EC key generation: ~7x faster than KeyObject generation in OpenSSL 3
      const d = leftPad32(keyGen.getPrivateKey()); // OpenSSL drops leading zero bytes of d
      fleet.store.addRecipe(eid, d, eager ? issue(d) : undefined);
      fleet.pool.register(eid);
      fleet.eidList.push(eid);
      if ((i + 1) % every === 0 || i + 1 === options.size) {
        options.onProgress?.(i + 1, options.size);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    fleet.scheduleConnectivityLoss();
    return fleet;
  }

  get size(): number {
    return this.eidList.length;
  }

  private static firstSerial(options: FleetOptions): number {
    const prefix = options.eidPrefix ?? DEMO_EID_PREFIX;
    return options.firstSerial ?? (prefix === DEMO_EID_PREFIX ? DEMO_EID_FIRST_SERIAL : 1);
  }

  /** CERT.ECASD.ECKA of a card (issued now if the fleet was made with lazy certificates). */
  ecasdCertificate(eid: string): Buffer | undefined {
    return this.store.certificate(eid);
  }

  eids(): readonly string[] {
    return this.eidList;
  }

  /** Page of devices for listings (100k devices are never listed at once). */
  list(offset = 0, limit = 100): Array<{ eid: string; model: DeviceModel }> {
    return this.eidList.slice(offset, offset + limit).map((eid) => ({ eid, model: this.model }));
  }

  has(eid: string): boolean {
    return this.pool.has(eid);
  }

  /** The device hosting card `eid` (created on first use), or undefined for an unknown EID. */
  device(eid: string): DeviceHandle | undefined {
    if (!this.pool.has(eid)) return undefined;
    let device = this.devices.get(eid);
    if (!device) {
      device = new DeviceHandle(eid, this.model, this.pool);
      this.devices.set(eid, device);
    }
    return device;
  }

  transmit(eid: string, apdu: Uint8Array): Buffer {
    return this.pool.transmit(eid, apdu);
  }

  /** Serves the fleet's cards over MQTT (see mqtt-es5.ts), wiring transport events to the devices. */
  async startMqtt(options: Omit<MqttEs5Options, 'pool' | 'eids' | 'onDeviceEvent' | 'reachable' | 'faults'>): Promise<MqttEs5Bridge> {
    this.bridge = await MqttEs5Bridge.start({
      ...options,
      pool: this.pool,
      eids: this.eidList,
      ...(this.faults ? { faults: this.faults } : {}),
      onDeviceEvent: (eid, event) => this.devices.get(eid)?.publish(event),
      reachable: (eid) => this.devices.get(eid)?.reachable() ?? true,
    });
    return this.bridge;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    await this.bridge?.close();
    this.bridge = undefined;
    this.pool.evictAll();
  }

  /** Fault plans may cut cellular coverage at a time: apply it to every device whose plan says so. */
  private scheduleConnectivityLoss(): void {
    if (!this.faults) return;
    const byDelay = new Map<number, string[]>();
    const fleetDelay = this.faults.plan.connectivityLossAtMs;
    const overrides = this.faults.plan.devices ?? {};
    for (const eid of fleetDelay !== undefined ? this.eidList : Object.keys(overrides)) {
      const delay = this.faults.faultsFor(eid).connectivityLossAtMs;
      if (delay === undefined || !this.pool.has(eid)) continue;
      byDelay.set(delay, [...(byDelay.get(delay) ?? []), eid]);
    }
    for (const [delay, eids] of byDelay) {
      const timer = setTimeout(() => eids.forEach((eid) => this.device(eid)?.setCoverage(false)), delay);
      timer.unref();
      this.timers.push(timer);
    }
  }
}

/**
 * Issues one ECASD credential under the EUM: a fresh key pair (on the PKI's curve) and a GP 7F21
 * certificate, key usage 0080 (key agreement), CA identifier = the EUM's subject key identifier.
 */
function ecasdIssuer(pki: TestPki): (d: Buffer) => Buffer {
  const eumKey: KeyObject = pki.eum.privateKey;
  const namedCurve = pki.curve === 'P-256' ? 'prime256v1' : 'brainpoolP256r1';
  const ecdh = createECDH(namedCurve);
  const notBefore = new Date(pki.issuedAt.getTime() - 24 * 3600 * 1000);
  const notAfter = new Date(pki.issuedAt.getTime() + 3650 * 24 * 3600 * 1000);
  const discretionaryData = gpDiscretionaryData('ecasd');
  let counter = 0n;
  const serialBase = BigInt(Date.now()) << 20n;
  return (d) => {
    ecdh.setPrivateKey(d);
    const point = ecdh.getPublicKey();
    counter += 1n;
    return issueGpCertificate(
      {
        serialNumber: Buffer.from((serialBase + counter).toString(16).padStart(16, '0'), 'hex'),
        caId: pki.eum.subjectKeyId,
        subjectId: createHash('sha1').update(point).digest(), // SKI method 1 of RFC 5280 §4.2.1.2, as subjectKeyIdOf
        keyUsage: GP_ROLE.ecasd.keyUsage,
        effectiveDate: notBefore,
        expirationDate: notAfter,
        discretionaryData,
        authorityKeyId: pki.eum.subjectKeyId,
        publicKey: point, // raw: no KeyObject import per card
        curve: pki.curve,
      },
      eumKey,
    );
  };
}

function leftPad32(bytes: Buffer): Buffer {
  return bytes.length === 32 ? bytes : Buffer.concat([Buffer.alloc(32 - bytes.length), bytes]);
}
