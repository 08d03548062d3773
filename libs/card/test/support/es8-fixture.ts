/**
 * Test fixture for the ES8 rows: a hand-built CardState with one SELECTABLE ISD-P, a VirtualEuicc whose
 * table holds the ES8 rows plus a minimal test-only ISD-R SCP03 handshake (INITIALIZE UPDATE / EXTERNAL
 * AUTHENTICATE on Scp03Card), and an off-card ES5 session that wraps / unwraps C-APDUs.
 */
import { randomBytes } from 'node:crypto';
import { Scp03Card, Scp03Host, type Scp03StaticKeys } from '@rsp/crypto';
import { generateTestPki, type TestPki } from '@rsp/pki';
import { decodeResponseApdu, encodeCommandApdu, encodeResponseApdu, SW, type CommandApdu, type ResponseApdu } from '@rsp/tlv';
import { AID } from '@rsp/offcard';
import type { CardFaults, CommandHandler } from '../../src/context';
import { ok } from '../../src/dispatcher';
import { VirtualEuicc } from '../../src/euicc';
import { ES8_COMMANDS } from '../../src/handlers/es8';
import { ISDP_LIFE_CYCLE, type CardState } from '../../src/model';
import { MemoryCardStore, type CardStore } from '../../src/store';

export const ISDP_AID = 'A0000005591010FFFFFFFF8900001100';
const ISD_R_KVN = 0x30;

/** Test-only ISD-R handshake rows (the production ones belong to card-isdr's secure-channel.ts). */
const TEST_HANDSHAKE: CommandHandler[] = [
  {
    name: 'test INITIALIZE UPDATE',
    spec: 'GP Amd D §7.1.1',
    app: 'isd-r',
    secured: false,
    matches: (apdu) => apdu.ins === 0x50,
    handle(ctx, apdu) {
      const keySet = ctx.state.isdR.keySets[0] as CardState['isdR']['keySets'][number];
      const card = new Scp03Card({
        keys: { enc: Buffer.from(keySet.enc, 'hex'), mac: Buffer.from(keySet.mac, 'hex'), dek: Buffer.from(keySet.dek, 'hex') },
        kvn: keySet.kvn,
        sdAid: Buffer.from(AID.ISD_R, 'hex'),
        sequenceCounter: ctx.state.isdR.sequenceCounter,
      });
      const response = card.initializeUpdate(apdu);
      ctx.state.isdR.sequenceCounter = card.sequenceCounter;
      ctx.volatile.scp03 = card;
      return response;
    },
  },
  {
    name: 'test EXTERNAL AUTHENTICATE',
    spec: 'GP Amd D §7.1.2',
    app: 'isd-r',
    secured: false,
    matches: (apdu) => apdu.ins === 0x82,
    handle(ctx, apdu) {
      ctx.volatile.scp03?.externalAuthenticate({ ...apdu, cla: 0x84 });
      return ok();
    },
  },
];

export interface Es8Card {
  pki: TestPki;
  euicc: VirtualEuicc;
  store: CardStore;
  isdRKeys: Scp03StaticKeys;
  state: CardState;
}

export interface Es8CardOptions {
  pki: TestPki;
  memoryQuota?: number;
  now?: () => Date;
  faults?: CardFaults;
  store?: CardStore;
  random?: (length: number) => Buffer;
}

const pkiCache = new Map<string, TestPki>();
/** One PKI per curve per test file (generation costs ~50 ms). */
export function testPki(curve: TestPki['curve']): TestPki {
  const cached = pkiCache.get(curve);
  if (cached) return cached;
  const pki = generateTestPki({ curve, euiccCount: 1 });
  pkiCache.set(curve, pki);
  return pki;
}

/** A card whose ISD-P {@link ISDP_AID} is SELECTABLE (as after CreateISDP). */
export function makeEs8Card(options: Es8CardOptions): Es8Card {
  const { pki } = options;
  const euiccCredential = pki.euiccs[0] as TestPki['euiccs'][number];
  const isdRKeys = { enc: randomBytes(16), mac: randomBytes(16), dek: randomBytes(16) };
  const state: CardState = {
    version: 1,
    eid: euiccCredential.eid,
    ecasd: {
      curve: pki.curve,
      privateKey: (euiccCredential.ecasd.privateKey.export({ format: 'der', type: 'pkcs8' }) as Buffer).toString('hex'),
      certificate: euiccCredential.ecasd.cert.toString('hex'),
      ciCertificate: pki.ci.der.toString('hex'),
    },
    isdR: {
      keySets: [{ kvn: ISD_R_KVN, enc: isdRKeys.enc.toString('hex'), mac: isdRKeys.mac.toString('hex'), dek: isdRKeys.dek.toString('hex') }],
      sequenceCounter: 0,
    },
    isdps: [
      { aid: ISDP_AID, lifeCycle: ISDP_LIFE_CYCLE.SELECTABLE, fallback: false, pol1: 0, memoryQuota: options.memoryQuota ?? 64 * 1024, scp03tCounter: 0 },
    ],
    memory: { totalBytes: 512 * 1024 },
    notifications: { nextSeq: 1, pending: [] },
  };
  const store = options.store ?? new MemoryCardStore();
  const euicc = VirtualEuicc.manufacture(state, {
    store,
    commands: [...ES8_COMMANDS, ...TEST_HANDSHAKE],
    ...(options.now ? { now: options.now } : {}),
    ...(options.faults ? { faults: options.faults } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
  return { pki, euicc, store, isdRKeys, state };
}

export interface Es5Session {
  /** Wraps, transmits and unwraps one command; the SW is returned as is. */
  send(apdu: CommandApdu): ResponseApdu;
  /** Like send, but throws unless 9000. */
  expectOk(apdu: CommandApdu): Buffer;
}

/** Opens the ISD-R's SCP03 session (security level 0x33) as the SM-SR would. */
export function openEs5(euicc: VirtualEuicc, keys: Scp03StaticKeys): Es5Session {
  const host = new Scp03Host({ keys, kvn: ISD_R_KVN });
  const raw = (apdu: CommandApdu): ResponseApdu => decodeResponseApdu(euicc.transmit(encodeCommandApdu(apdu)));
  host.processInitializeUpdateResponse(raw(host.initializeUpdateCommand()));
  host.processExternalAuthenticateResponse(raw(host.externalAuthenticateCommand(0x33)));
  const send = (apdu: CommandApdu): ResponseApdu => host.unwrapResponse(raw(host.wrapCommand(apdu)));
  return {
    send,
    expectOk(apdu) {
      const response = send(apdu);
      if (response.sw !== SW.OK) throw new Error(`SW ${response.sw.toString(16)} for ${encodeResponseApdu(response).toString('hex')}`);
      return response.data;
    },
  };
}
