/**
 * A file-backed fleet keeps its cards' identity across restarts (the attacker review's finding: an
 * untouched card was re-made with a new ECASD key at every start, so the SM-SR's EIS no longer matched).
 * Each round closes the fleet and creates it again on the same directory, as `npm start` does.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileCardStore } from '@rsp/card';
import { AID, buildEstablishKeySetStep1, buildEstablishKeySetStep2, createIsdpApdu, defaultIsdRKeySet, isdpAid, parseEstablishKeySetStep1Response } from '@rsp/offcard';
import { Scp03Host, exportRawPublicKey } from '@rsp/crypto';
import { generateTestPki, parseGpCertificate, verifyGpCertificate } from '@rsp/pki';
import { decodeResponseApdu, encodeCommandApdu, type CommandApdu, type ResponseApdu } from '@rsp/tlv';
import { dataDirPki } from '../src/cli';
import { Fleet, type FleetOptions } from '../src/fleet';
import { encodeFleetRecipes, fleetRecordName } from '../src/fleet-recipes';

const pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
const otherPki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
const root = mkdtempSync(join(tmpdir(), 'rsp-fleet-identity-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dirs = 0;
const freshDir = (): string => join(root, `d${(dirs += 1)}`);
const PREFIX = '89049032123451234512';
const FIRST = 4_000_000_000;
const recordFile = (dir: string): string => join(dir, fleetRecordName(PREFIX, FIRST));

function fleetOn(dir: string, overrides: Partial<FleetOptions> = {}): Promise<Fleet> {
  return Fleet.create({ size: 3, model: 'oven', pki, eidPrefix: PREFIX, firstSerial: FIRST, backingStore: new FileCardStore(dir), ...overrides });
}

function send(fleet: Fleet, eid: string, apdu: CommandApdu): ResponseApdu {
  return decodeResponseApdu(fleet.transmit(eid, encodeCommandApdu(apdu)));
}

/** What the SM-SR reads: SELECT ECASD, GET DATA 7F21 (GP CS §11.3; SGP.02 §2.2.2). */
function ecasdCertificateOnCard(fleet: Fleet, eid: string): Buffer {
  expect(send(fleet, eid, { cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: Buffer.from(AID.ECASD, 'hex'), le: 256 }).sw).toBe(0x9000);
  const response = send(fleet, eid, { cla: 0x80, ins: 0xca, p1: 0x7f, p2: 0x21, data: Buffer.alloc(0), le: 256 });
  expect(response.sw).toBe(0x9000);
  return response.data;
}

/** The public key of the SK.ECASD.ECKA the card holds now. */
function cardPublicKey(fleet: Fleet, eid: string): string {
  const privateKey = createPrivateKey({ key: Buffer.from(fleet.pool.snapshot(eid).ecasd.privateKey, 'hex'), format: 'der', type: 'pkcs8' });
  return exportRawPublicKey(createPublicKey(privateKey)).toString('hex');
}

/** ES5 as the SM-SR: SELECT ISD-R and an SCP03 session with the card's TEST keys; returns a wrapped sender. */
function openEs5(fleet: Fleet, eid: string): (apdu: CommandApdu) => Buffer {
  expect(send(fleet, eid, { cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: Buffer.from(AID.ISD_R, 'hex'), le: 256 }).sw).toBe(0x9000);
  const keys = defaultIsdRKeySet(eid);
  const host = new Scp03Host({ keys, kvn: keys.kvn });
  host.processInitializeUpdateResponse(send(fleet, eid, host.initializeUpdateCommand()));
  host.processExternalAuthenticateResponse(send(fleet, eid, host.externalAuthenticateCommand(0x33)));
  return (apdu) => {
    const response = host.unwrapResponse(send(fleet, eid, host.wrapCommand(apdu)));
    if (response.sw !== 0x9000) throw new Error(`card answered ${response.sw.toString(16)}`);
    return response.data;
  };
}

/**
 * Scenario#3 (SGP.02 §3.1.2) against a certificate read in an EARLIER run: the SM-DP checks the card's
 * receipt, which only the holder of that certificate's private key can compute.
 */
function scenario3WithCertificate(fleet: Fleet, eid: string, ecasdCertificate: Buffer, isdpNumber: number): void {
  const aid = isdpAid(isdpNumber);
  const es5 = openEs5(fleet, eid);
  es5(createIsdpApdu(aid, { quota: 16_384 }));
  let challenge: Buffer = Buffer.alloc(0);
  for (const command of buildEstablishKeySetStep1({ isdpAid: aid, smdpCertificate: pki.smDp.cert })) {
    const data = es5(command);
    if (data.length > 0) challenge = parseEstablishKeySetStep1Response(data);
  }
  const step2 = buildEstablishKeySetStep2({ challenge, smdpPrivateKey: pki.smDp.privateKey, ecasdCertificate, isdpAid: aid });
  let last: Buffer = Buffer.alloc(0);
  for (const command of step2.commands) last = es5(command);
  step2.finish(last); // throws ERR_CRYPTO_RECEIPT_MISMATCH if the card's key is not the certificate's
}

/** Any state change that commits: INITIALIZE UPDATE persists the ISD-R's SCP03 sequence counter. */
function touch(fleet: Fleet, eid: string): void {
  openEs5(fleet, eid);
}

const cardFiles = (dir: string): string[] => readdirSync(dir).filter((name) => name.endsWith('.json'));

describe('fleet identity across restarts (file backing store)', () => {
  it('same EIDs, ECASD certificates and keys after two restarts, untouched cards included', async () => {
    const dir = freshDir();
    const first = await fleetOn(dir);
    const eids = [...first.eids()];
    const certificates = eids.map((eid) => ecasdCertificateOnCard(first, eid));
    const keys = eids.map((eid) => cardPublicKey(first, eid));
    for (const certificate of certificates) {
      verifyGpCertificate(parseGpCertificate(certificate), { publicKey: pki.eum.publicKey, subjectKeyId: pki.eum.subjectKeyId }, { now: new Date(), expectedRole: 'ecasd' });
    }
    touch(first, eids[0] as string);
    await first.close();
    // One manufacturing record (owner-only) and a state file only for the card that changed.
    expect(statSync(recordFile(dir)).mode & 0o777).toBe(0o600);
    expect(cardFiles(dir)).toEqual([`${eids[0]}.json`]);

    for (const round of [2, 3]) {
      const again = await fleetOn(dir);
      try {
        expect(again.eids()).toEqual(eids);
        expect(eids.map((eid) => ecasdCertificateOnCard(again, eid).toString('hex'))).toEqual(certificates.map((c) => c.toString('hex')));
        expect(eids.map((eid) => cardPublicKey(again, eid))).toEqual(keys);
        expect(eids.map((eid) => again.ecasdCertificate(eid)?.toString('hex'))).toEqual(certificates.map((c) => c.toString('hex')));
        if (round === 3) {
          // The key itself: Scenario#3 with the certificates read in run 1, on the untouched card and the changed one.
          scenario3WithCertificate(again, eids[2] as string, certificates[2] as Buffer, 2);
          scenario3WithCertificate(again, eids[0] as string, certificates[0] as Buffer, 2);
        }
      } finally {
        await again.close();
      }
    }
  });

  it('a big fleet writes one record file at start, no card files; a grown fleet keeps its first cards', async () => {
    const dir = freshDir();
    const big = await fleetOn(dir, { size: 2000 });
    const certificate = big.ecasdCertificate(big.eids()[1999] as string) as Buffer;
    await big.close();
    expect(readdirSync(dir)).toEqual([fleetRecordName(PREFIX, FIRST)]);

    const grown = await fleetOn(dir, { size: 2003 });
    expect(grown.ecasdCertificate(grown.eids()[1999] as string)).toEqual(certificate);
    const added = grown.ecasdCertificate(grown.eids()[2002] as string) as Buffer;
    await grown.close();
    const shrunk = await fleetOn(dir, { size: 5 });
    expect(shrunk.size).toBe(5);
    await shrunk.close();
    const again = await fleetOn(dir, { size: 2003 });
    expect(again.ecasdCertificate(again.eids()[2002] as string)).toEqual(added);
    await again.close();
  });

  it('lazy certificates: one issued on first use is saved with its card before it is shown', async () => {
    const dir = freshDir();
    const lazy = await fleetOn(dir, { certificates: 'lazy' });
    const eid = lazy.eids()[1] as string;
    const certificate = lazy.ecasdCertificate(eid) as Buffer;
    expect(existsSync(join(dir, `${eid}.json`))).toBe(true);
    await lazy.close();
    const again = await fleetOn(dir, { certificates: 'lazy' });
    expect(ecasdCertificateOnCard(again, eid)).toEqual(certificate);
    scenario3WithCertificate(again, eid, certificate, 2);
    await again.close();
  });

  it('a card state from before manufacturing records keeps its key (adopted, then recorded)', async () => {
    const dir = freshDir();
    const old = await fleetOn(dir);
    const eid = old.eids()[0] as string;
    const certificate = ecasdCertificateOnCard(old, eid);
    touch(old, eid);
    await old.close();
    rmSync(recordFile(dir)); // a data directory written before records existed
    const adopted = await fleetOn(dir);
    expect(ecasdCertificateOnCard(adopted, eid)).toEqual(certificate);
    await adopted.close();
    expect(existsSync(recordFile(dir))).toBe(true);
  });
});

describe('npm run sim --data-dir', () => {
  it('generates the PKI once and reads it back, so the fleet over it keeps its certificates', async () => {
    const dir = freshDir();
    const created = dataDirPki(dir, 'P-256');
    expect(created.generated).toBe(true);
    const simOptions = { size: 2, model: 'generic' as const, backingStore: new FileCardStore(dir) };
    const first = await Fleet.create({ ...simOptions, pki: created.pki });
    const certificates = first.eids().map((eid) => first.ecasdCertificate(eid));
    await first.close();
    const read = dataDirPki(dir, 'P-256');
    expect(read.generated).toBe(false);
    expect([read.pki.ci.der, read.pki.eum.der]).toEqual([created.pki.ci.der, created.pki.eum.der]);
    const again = await Fleet.create({ ...simOptions, pki: read.pki });
    expect(again.eids().map((eid) => again.ecasdCertificate(eid))).toEqual(certificates);
    await again.close();
  });
});

describe('refused: corrupt, foreign and forged records (never re-made)', () => {
  async function recordedDir(): Promise<{ dir: string; eids: string[] }> {
    const dir = freshDir();
    const fleet = await fleetOn(dir);
    const eids = [...fleet.eids()];
    await fleet.close();
    return { dir, eids };
  }

  async function refusal(dir: string, options: Partial<FleetOptions> = {}): Promise<{ code: string; message: string }> {
    const before = readFileSync(recordFile(dir));
    const error = (await fleetOn(dir, options).then(
      () => undefined,
      (e: unknown) => e,
    )) as { code: string; message: string } | undefined;
    if (!error) throw new Error('the fleet was created');
    expect(readFileSync(recordFile(dir))).toEqual(before); // nothing re-made over it
    return error;
  }

  it('a flipped byte or a truncated file: ERR_SIM_FLEET_RECORD_CORRUPT naming the file', async () => {
    const { dir } = await recordedDir();
    const bytes = readFileSync(recordFile(dir));
    bytes[100] = (bytes[100] as number) ^ 0x01;
    writeFileSync(recordFile(dir), bytes);
    const flipped = await refusal(dir);
    expect(flipped.code).toBe('ERR_SIM_FLEET_RECORD_CORRUPT');
    expect(flipped.message).toContain(recordFile(dir));
    writeFileSync(recordFile(dir), bytes.subarray(0, 70));
    expect((await refusal(dir)).code).toBe('ERR_SIM_FLEET_RECORD_CORRUPT');
  });

  it('a record made under another PKI: ERR_SIM_FLEET_RECORD_FOREIGN_PKI', async () => {
    const { dir } = await recordedDir();
    const error = await refusal(dir, { pki: otherPki });
    expect(error.code).toBe('ERR_SIM_FLEET_RECORD_FOREIGN_PKI');
    expect(error.message).toContain(recordFile(dir));
  });

  it('forged with a valid digest: a swapped key is caught by d·G, another EUM\'s certificate by its CA id', async () => {
    const { dir, eids } = await recordedDir();
    const genuine = await fleetOn(dir);
    const certificates = eids.map((eid) => genuine.ecasdCertificate(eid) as Buffer);
    await genuine.close();
    const source = (scalar: (index: number) => Buffer, certificate: (index: number) => Buffer) => ({
      curve: pki.curve,
      manufacturedAt: new Date(),
      bootstrapProfile: true,
      count: eids.length,
      eid: (index: number) => eids[index] as string,
      scalar,
      certificate,
    });
    const attackerScalar = (index: number): Buffer => createHash('sha256').update(`attacker ${index}`).digest();
    // The attacker's own keys under the genuine certificates (digest recomputed, header of this PKI).
    writeFileSync(recordFile(dir), encodeFleetRecipes(source(attackerScalar, (index) => certificates[index] as Buffer), pki));
    const swapped = await refusal(dir);
    expect(swapped.code).toBe('ERR_SIM_FLEET_RECORD_CORRUPT');
    expect(swapped.message).toMatch(/does not match the public key of CERT\.ECASD\.ECKA/);

    // Keys with certificates the attacker's EUM issued, dressed in this PKI's header.
    const foreign = await Fleet.create({ size: 3, model: 'oven', pki: otherPki, eidPrefix: PREFIX, firstSerial: FIRST });
    const foreignCerts = eids.map((eid) => foreign.ecasdCertificate(eid) as Buffer);
    const foreignKeys = eids.map((eid) => {
      const jwk = createPrivateKey({ key: Buffer.from(foreign.pool.snapshot(eid).ecasd.privateKey, 'hex'), format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
      return Buffer.from(jwk.d as string, 'base64url');
    });
    await foreign.close();
    writeFileSync(recordFile(dir), encodeFleetRecipes(source((index) => foreignKeys[index] as Buffer, (index) => foreignCerts[index] as Buffer), pki));
    const issuedElsewhere = await refusal(dir);
    expect(issuedElsewhere.code).toBe('ERR_SIM_FLEET_RECORD_FOREIGN_PKI');
    expect(issuedElsewhere.message).toMatch(/not issued by this EUM/);
  });

  it('a replayed card file: another card\'s state, or this card made under another PKI, is never served', async () => {
    const { dir, eids } = await recordedDir();
    const [a, b] = eids as [string, string];
    // Card a's state copied over card b's name.
    const fleet = await fleetOn(dir);
    touch(fleet, a);
    await fleet.close();
    copyFileSync(join(dir, `${a}.json`), join(dir, `${b}.json`));
    const replayed = await fleetOn(dir);
    expect(() => replayed.transmit(b, Buffer.from('80CA005A00', 'hex'))).toThrow(expect.objectContaining({ code: 'ERR_CARD_STORE_CORRUPT' }));
    await replayed.close();
    rmSync(join(dir, `${b}.json`));

    // Card a as another PKI's run made it, dropped into this directory.
    const elsewhere = freshDir();
    const other = await fleetOn(elsewhere, { pki: otherPki });
    touch(other, a);
    await other.close();
    copyFileSync(join(elsewhere, `${a}.json`), join(dir, `${a}.json`));
    const mixed = await fleetOn(dir);
    expect(() => mixed.transmit(a, Buffer.from('80CA005A00', 'hex'))).toThrow(expect.objectContaining({ code: 'ERR_SIM_CARD_IDENTITY_MISMATCH' }));
    expect(() => mixed.ecasdCertificate(a)).toThrow(expect.objectContaining({ code: 'ERR_SIM_CARD_IDENTITY_MISMATCH' }));
    await mixed.close();
  });
});
