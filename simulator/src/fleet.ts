/**
 * Fleets: N devices, each with a virtual eUICC manufactured under ONE test PKI's EUM (EIDs from one
 * EUM prefix, CERT.ECASD.ECKA issued by the EUM key, SGP.02 §2.3 / §4.1.3).
 *
 * Idle cards are cheap: at manufacture we keep only a *recipe* (the ECASD private scalar and its GP
 * certificate, ~270 bytes); the full CardState is expanded by `manufactureCardState` when a card is
 * first hydrated, and stored (as JSON) only once it changed. Devices (DeviceHandle) are created on
 * first use too. See bench/fleet.ts for the figures.
 *
 * With a backing store the recipes persist too (fleet-recipes.ts: one file per fleet), so a restart
 * presents the same EIDs, keys and certificates the SM-SR registered (ES1), untouched cards included.
 */
import { createECDH, createHash, type KeyObject } from 'node:crypto';
import { encodeEcPrivateKeyPkcs8 } from '@rsp/crypto';
import { NOTIFICATION_TYPE, encodeNotification, isManufacturingRecordStore, manufactureCardState, type BootstrapProfile, type CardStore, type CommandHandler } from '@rsp/card';
import { defaultIsdRKeySet } from '@rsp/offcard';
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
import {
  EcasdCredentialCheck,
  adoptStoredCredential,
  decodeFleetRecipes,
  encodeFleetRecipes,
  fleetRecordName,
  leftPad32,
  type FleetRecipeHeader,
} from './fleet-recipes';
import { RecipeCardStore, describeStored } from './recipe-card-store';

export { RecipeCardStore } from './recipe-card-store';
import { MqttEs5Bridge, type MqttEs5Options } from './mqtt-es5';

export interface FleetOptions {
  size: number;
  model: DeviceModel;
  /** The PKI whose EUM issues the ECASD certificates (default: a fresh P-256 test PKI). */
  pki?: TestPki;
  /** EID prefix (default the SGP.26 demo prefix) and first serial. */
  eidPrefix?: string;
  firstSerial?: number;
  /**
   * Where changed states persist (default: memory). With one, the fleet keeps its cards' identity: a
   * card the store knows (its manufacturing record, see fleet-recipes.ts, or its stored state) is adopted,
   * never re-made, and what is made is persisted before {@link Fleet.create} returns.
   */
  backingStore?: CardStore;
  maxHydrated?: number;
  /** Evicted cards whose waiting state is kept (card-host.ts `maxParked`). */
  maxParked?: number;
  faults?: FaultPlan;
  /** Replaces the card command table (tests). */
  commands?: readonly CommandHandler[];
  /** Ship every card with a bootstrap (fall-back) profile. Default true; a fleet's manufacturing record wins. */
  bootstrapProfile?: boolean;
  /** Manufacturing time (fixed, so expanded recipes are identical every time); a fleet's manufacturing record wins. */
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
    made: FleetRecipeHeader,
  ) {
    const now = made.manufacturedAt;
    const firstSerial = Fleet.firstSerial(options);
    this.store = new RecipeCardStore({
      expand: (eid, index, d) =>
        manufactureCardState({
          eid,
          curve: pki.curve,
          ecasdPrivateKey: { pkcs8: encodeEcPrivateKeyPkcs8(pki.curve, d) }, // no KeyObject round trip per card
          ecasdCertificate: this.store.recipeCertificate(index),
          ciCertificate: pki.ci.der,
          isdRKeySets: [defaultIsdRKeySet(eid)],
          ...(made.bootstrapProfile ? { bootstrapProfile: bootstrapProfileFor(eid, firstSerial + index) } : {}),
          now,
        }),
      issueCertificate: ecasdIssuer(pki),
      declaration: (eid) => ({
        seq: 1,
        type: NOTIFICATION_TYPE.EUICC_DECLARATION,
        tlv: encodeNotification(eid, NOTIFICATION_TYPE.EUICC_DECLARATION, 1).toString('hex'),
        createdAt: now.toISOString(),
        attempts: 0,
      }),
      credentialCheck: new EcasdCredentialCheck(pki),
      ...(options.backingStore ? { backing: options.backingStore } : {}),
    });
    this.faults = options.faults ? new FaultPlanRunner(options.faults) : undefined;
    this.pool = new CardPool({
      store: this.store,
      ...(options.maxHydrated !== undefined ? { maxHydrated: options.maxHydrated } : {}),
      ...(options.maxParked !== undefined ? { maxParked: options.maxParked } : {}),
      ...(this.faults ? { faults: this.faults } : {}),
      ...(options.commands ? { commands: options.commands } : {}),
    });
    this.pool.on('card-event', (eid, event) => this.devices.get(eid)?.onCardEvent(event));
    this.pool.on('power-loss', (eid, step) => this.devices.get(eid)?.publish({ type: 'power-loss', step }));
  }

  /**
   * Manufactures the fleet, or with a backing store adopts the cards it already holds; yields to the
   * event loop between batches so progress can be drawn. Cards made here are persisted (one
   * manufacturing record, or one state per card for a store without records) before it returns.
   */
  static async create(options: FleetOptions): Promise<Fleet> {
    const pki = options.pki ?? generateTestPki({ curve: 'P-256', euiccCount: 0 });
    const prefix = options.eidPrefix ?? DEMO_EID_PREFIX;
    const first = Fleet.firstSerial(options);
    const eidAt = (index: number): string => generateEid(prefix, first + index);
    const backing = options.backingStore;
    const records = backing && isManufacturingRecordStore(backing) ? backing : undefined;
    const recordName = fleetRecordName(prefix, first);
    const recordBytes = records?.readRecord(recordName);
    const recorded = records && recordBytes ? decodeFleetRecipes(recordBytes, { location: records.recordLocation(recordName), pki, eidAt }) : undefined;
    const made: FleetRecipeHeader = recorded
      ? { curve: recorded.curve, manufacturedAt: recorded.manufacturedAt, bootstrapProfile: recorded.bootstrapProfile }
      : { curve: pki.curve, manufacturedAt: options.now ?? new Date(), bootstrapProfile: options.bootstrapProfile ?? true };
    const fleet = new Fleet(options.model, pki, options, made);
    const eager = options.certificates !== 'lazy';
    const issue = ecasdIssuer(pki);
    const check = new EcasdCredentialCheck(pki);
    const every = options.progressEvery ?? 1000;
    const keyGen = createECDH(pki.curve === 'P-256' ? 'prime256v1' : 'brainpoolP256r1');
    const newlyMade: string[] = [];
    fleet.store.reserve(options.size);
    for (let i = 0; i < options.size; i += 1) {
      const eid = eidAt(i);
      if (recorded && i < recorded.count) {
        fleet.store.addRecipe(eid, recorded.scalar(i), recorded.certificates[i]);
      } else {
        // A card the store knows without a record (a data directory from before records) keeps its key.
        const known = backing?.load(eid);
        if (known) {
          const { d, certificate } = adoptStoredCredential(known, check, describeStored(backing, eid));
          fleet.store.addRecipe(eid, d, certificate);
        } else {
          keyGen.generateKeys(); // raw EC key generation: ~7x faster than KeyObject generation in OpenSSL 3
          const d = leftPad32(keyGen.getPrivateKey()); // OpenSSL drops leading zero bytes of d
          fleet.store.addRecipe(eid, d, eager ? issue(d) : undefined);
        }
        newlyMade.push(eid);
      }
      fleet.pool.register(eid);
      fleet.eidList.push(eid);
      if ((i + 1) % every === 0 || i + 1 === options.size) {
        options.onProgress?.(i + 1, options.size);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    if (records && newlyMade.length > 0) {
      // One atomic, fsynced file for the whole fleet; a fleet grown since its last run rewrites it whole.
      records.writeRecord(recordName, encodeFleetRecipes(fleet.store.recipeSource(made, fleet.eidList), pki));
    } else if (backing) {
      for (const eid of newlyMade) fleet.store.persistManufactured(eid);
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
      const created = new DeviceHandle(eid, this.model, this.pool);
      // Back in coverage (or on Wi-Fi): what the card could not send while offline goes out now.
      created.watch((event) => {
        if (event.type === 'connectivity' && created.reachable()) this.bridge?.resumeNotifications(eid);
      });
      device = created;
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
