import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { decodeSingleTlv, SW, type CommandApdu } from '@rsp/tlv';
import { PowerLoss } from '@rsp/offcard';
import { VirtualEuicc } from '../src/euicc';
import { ES8_HEADER } from '@rsp/offcard';
import { ISDP_LIFE_CYCLE } from '../src/model';
import { buildDownloadCommands, buildInstallForPersonalization, storeDataForScp03t, type IsdpKeySet } from '@rsp/offcard';
import { FileCardStore } from '../src/store';
import { ISDP_AID, makeEs8Card, openEs5, testPki, type Es5Session } from './support/es8-fixture';
import { download, establishKeySet, personalisedPackage, PROFILE } from './support/es8-flow';
import { decodeProfilePackage, encodeProfilePackage, PE_STATUS } from '@rsp/saip';
import { POL1 } from '../src/profile-ops';

/** The test package with its ProfileHeader `pol` (POL1) set to `pol`. */
function packageWithPol(pol: Buffer): Buffer {
  const pkg = decodeProfilePackage(personalisedPackage());
  return encodeProfilePackage({ ...pkg, elements: pkg.elements.map((pe) => (pe.kind === 'header' ? { ...pe, pol } : pe)) });
}

const pki = testPki('P-256');

/** A PERSONALIZED card, its ES5 session and the SM-DP's key set. */
function personalizedCard(options: Parameters<typeof makeEs8Card>[0] | Record<string, never> = {}) {
  const card = makeEs8Card({ pki, ...options });
  const session = openEs5(card.euicc, card.isdRKeys);
  const keySet = establishKeySet(session, pki);
  return { ...card, session, keySet };
}

/** Runs the SCP03t handshake and returns the wrapped segment commands (not yet sent). */
function openDownload(session: Es5Session, keySet: IsdpKeySet, maxSegmentBytes = 128) {
  const dl = buildDownloadCommands({ keys: keySet.keys, kvn: keySet.kvn, package: personalisedPackage(), maxSegmentBytes });
  session.expectOk(buildInstallForPersonalization(ISDP_AID));
  const [initializeUpdate] = dl.initializeUpdate() as [CommandApdu];
  const [externalAuthenticate] = dl.externalAuthenticate(session.expectOk(initializeUpdate)) as [CommandApdu];
  return { dl, segments: dl.segments(session.expectOk(externalAuthenticate)) };
}

function expectPersonalizedWithoutProfile(euicc: VirtualEuicc): void {
  const isdp = euicc.snapshot().isdps[0];
  expect(isdp?.lifeCycle).toBe(ISDP_LIFE_CYCLE.PERSONALIZED);
  expect(isdp?.profile).toBeUndefined();
}

describe('ES8 DownloadAndInstallation (SCP03t)', () => {
  it('answers 86 00 to each intermediate segment and the EUICCResponse to the last one', () => {
    const { euicc, session, keySet } = personalizedCard();
    const { dl, segments } = openDownload(session, keySet);
    expect(segments.length).toBeGreaterThan(2);
    expect(euicc.park()).toBeDefined(); // an SCP03t session into a PERSONALIZED ISD-P: a host keeps it (VirtualEuicc.park)
    const first = session.expectOk(segments[0] as CommandApdu);
    expect(euicc.park()).toBeDefined(); // a partial package too
    const responses = [first, ...segments.slice(1).map((segment) => session.expectOk(segment))];
    for (const response of responses.slice(0, -1)) expect(response.toString('hex')).toBe('8600');
    expect(dl.result(responses)).toEqual({ peStatus: [{ status: 0 }] });
    expect(euicc.snapshot().isdps[0]?.profile?.iccid).toBe(PROFILE.iccid);
    expect(euicc.park()).toBeUndefined();
  });

  it('installs a package sent 15 bytes at a time (one AES block per segment), cutting through TLV headers and values, byte for byte', () => {
    const { euicc, session, keySet } = personalizedCard();
    const pkg = personalisedPackage();
    const dl = buildDownloadCommands({ keys: keySet.keys, kvn: keySet.kvn, package: pkg, maxSegmentBytes: 26 }); // 86 L, 16 bytes of cipher, 8 of MAC
    session.expectOk(buildInstallForPersonalization(ISDP_AID));
    const [initializeUpdate] = dl.initializeUpdate() as [CommandApdu];
    const [externalAuthenticate] = dl.externalAuthenticate(session.expectOk(initializeUpdate)) as [CommandApdu];
    const segments = dl.segments(session.expectOk(externalAuthenticate));
    expect(segments.length).toBeGreaterThanOrEqual(Math.ceil(pkg.length / 15)); // dozens: the reassembly walks on, it does not start over
    expect(dl.result(segments.map((segment) => session.expectOk(segment)))).toEqual({ peStatus: [{ status: 0 }] });
    expect(euicc.snapshot().isdps[0]?.profile?.package).toBe(pkg.toString('hex'));
  });

  it('refuses a tampered segment with an error TLV, then the rest, and installs nothing', () => {
    const { euicc, session, keySet } = personalizedCard();
    const { segments } = openDownload(session, keySet);
    const before = euicc.snapshot();
    const [first, second, ...rest] = segments as [CommandApdu, CommandApdu, ...CommandApdu[]];
    session.expectOk(first);
    const tampered = Buffer.from(second.data);
    tampered[10] = (tampered[10] as number) ^ 0xff;
    expect(decodeSingleTlv(session.expectOk({ ...second, data: tampered })).tag).toBe(0x9f06);
    for (const segment of [second, ...rest]) expect(decodeSingleTlv(session.expectOk(segment)).tag).toBe(0x9f06);
    expect(euicc.snapshot()).toEqual(before);
    expectPersonalizedWithoutProfile(euicc);
  });

  it('refuses a replayed segment with an error TLV', () => {
    const { euicc, session, keySet } = personalizedCard();
    const { segments } = openDownload(session, keySet);
    const [first] = segments as [CommandApdu];
    expect(session.expectOk(first).toString('hex')).toBe('8600');
    expect(decodeSingleTlv(session.expectOk(first)).tag).toBe(0x9f06);
    expectPersonalizedWithoutProfile(euicc);
  });

  it('refuses segments before the SCP03t handshake and in a SELECTABLE ISD-P', () => {
    const { session, keySet } = personalizedCard();
    const { segments } = openDownload(session, keySet);
    // A fresh card without keys: 6985.
    const bare = makeEs8Card({ pki });
    const bareSession = openEs5(bare.euicc, bare.isdRKeys);
    bareSession.expectOk({ cla: 0x80, ins: 0xe6, p1: 0x20, p2: 0x00, data: Buffer.from(`000010${ISDP_AID}000000`, 'hex') });
    expect(bareSession.send(segments[0] as CommandApdu).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
    // Keys but no SCP03t session after a power cycle: error TLV.
    const other = personalizedCard();
    other.euicc.powerCycle();
    const again = openEs5(other.euicc, other.isdRKeys);
    again.expectOk({ cla: 0x80, ins: 0xe6, p1: 0x20, p2: 0x00, data: Buffer.from(`000010${ISDP_AID}000000`, 'hex') });
    expect(decodeSingleTlv(again.expectOk(storeDataForScp03t(Buffer.from('8618' + '00'.repeat(24), 'hex')))).tag).toBe(0x9f06);
  });

  it('answers "not enough memory" when the package exceeds the ISD-P quota, and installs nothing', () => {
    const { euicc, session, keySet } = personalizedCard({ pki, memoryQuota: 300 });
    const before = euicc.snapshot();
    const result = download(session, keySet, personalisedPackage(), { maxSegmentBytes: 256 });
    expect(result).toMatchObject({ peStatus: [{ status: 4 }], profileInstallationAborted: true });
    expect({ ...euicc.snapshot(), isdps: before.isdps }).toEqual(before);
    expect(euicc.snapshot().isdps[0]?.scp03tCounter).toBe(1);
    expectPersonalizedWithoutProfile(euicc);
  });

  it('answers "not enough memory" when the memory-full fault is on', () => {
    const { euicc, session, keySet } = personalizedCard({ pki, faults: { memoryFull: () => true } });
    expect(download(session, keySet, personalisedPackage())).toMatchObject({ peStatus: [{ status: 4 }] });
    expectPersonalizedWithoutProfile(euicc);
  });

  it('reports a package that is not SAIP in the EUICCResponse and installs nothing', () => {
    const { euicc, session, keySet } = personalizedCard();
    const notSaip = Buffer.from('8001ffaa00', 'hex'); // two TLVs ending in AA ('end'), but no ProfileHeader
    const result = download(session, keySet, notSaip);
    expect(result?.profileInstallationAborted).toBe(true);
    expect(result?.peStatus[0]?.status).not.toBe(0);
    expectPersonalizedWithoutProfile(euicc);
  });

  it('takes POL1 from the package (SAIP ProfileHeader pol) into the ISD-P', () => {
    const { euicc, session, keySet } = personalizedCard();
    expect(download(session, keySet, packageWithPol(Buffer.of(POL1.DISABLE_NOT_ALLOWED | POL1.DELETE_NOT_ALLOWED)))).toMatchObject({ peStatus: [{ status: 0 }] });
    expect(euicc.snapshot().isdps[0]).toMatchObject({ lifeCycle: ISDP_LIFE_CYCLE.DISABLED, pol1: 0x03 });
  });

  it('refuses a package whose POL1 has a bit it does not know, or is not one byte, and installs nothing', () => {
    for (const pol of [Buffer.of(0x08), Buffer.of(0x01, 0x00)]) {
      const { euicc, session, keySet } = personalizedCard();
      const result = download(session, keySet, packageWithPol(pol));
      expect(result).toMatchObject({ profileInstallationAborted: true, peStatus: [{ status: PE_STATUS.badValues }] });
      expectPersonalizedWithoutProfile(euicc);
    }
  });

  it('refuses a second download once installed (6985)', () => {
    const { session, keySet } = personalizedCard();
    download(session, keySet, personalisedPackage());
    const dl = buildDownloadCommands({ keys: keySet.keys, kvn: keySet.kvn, package: personalisedPackage() });
    expect(session.send(dl.initializeUpdate()[0] as CommandApdu).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
  });

  it('routes the SCP03t STORE DATA by header only', () => {
    expect(ES8_HEADER.STORE_DATA_SCP03T).toEqual({ cla: 0x80, ins: 0xe2, p1: 0x91, p2: 0x00 });
  });
});

describe('ES8 DownloadAndInstallation in one script (SCP03t scripting mode, GP Amd D §6.2.2.1)', () => {
  const options = (keySet: IsdpKeySet) => ({ isdpAid: ISDP_AID, keys: keySet.keys, kvn: keySet.kvn, package: personalisedPackage(), maxSegmentBytes: 128 });

  it('installs from one script: INSTALL, 84 with a predicted challenge, 85, the segments', () => {
    const { euicc, session, keySet } = personalizedCard();
    const dl = buildDownloadCommands(options(keySet));
    const script = dl.script();
    expect(script.length).toBeGreaterThan(4);
    expect(dl.scriptResult(script.map((apdu) => session.expectOk(apdu)))).toEqual({ peStatus: [{ status: 0 }] });
    const isdp = euicc.snapshot().isdps[0];
    expect(isdp?.profile?.iccid).toBe(PROFILE.iccid);
    expect(isdp?.scp03tCounter).toBe(1); // the predicted counter is the one the card used and kept
  });

  it('a card that has used its counter refuses the predicted 85 and the segments; the interactive handshake still installs', () => {
    const { euicc, session, keySet } = personalizedCard();
    // A first session moves the ISD-P's counter to 1: a prediction of 1 is now stale.
    session.expectOk(buildInstallForPersonalization(ISDP_AID));
    session.expectOk(buildDownloadCommands(options(keySet)).initializeUpdate()[1] as CommandApdu);
    const stale = buildDownloadCommands(options(keySet));
    const responses = stale.script().map((apdu) => session.expectOk(apdu));
    expect(decodeSingleTlv(responses[2] as Buffer).tag).toBe(0x9f05); // '85' refused: host cryptogram of another challenge
    expect(() => stale.scriptResult(responses)).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_SCP03_COUNTER_MISMATCH', actual: 2 }));
    expectPersonalizedWithoutProfile(euicc);

    const { dl, segments } = openDownload(session, keySet);
    expect(dl.result(segments.map((segment) => session.expectOk(segment)))).toEqual({ peStatus: [{ status: 0 }] });
    expect(euicc.snapshot().isdps[0]?.profile?.iccid).toBe(PROFILE.iccid);
  });

  it('a forged card cryptogram is refused before any answer is trusted (not taken for a stale counter)', () => {
    const { session, keySet } = personalizedCard();
    const dl = buildDownloadCommands(options(keySet));
    const responses = dl.script().map((apdu) => session.expectOk(apdu));
    const initialize = Buffer.from(responses[1] as Buffer);
    initialize[initialize.length - 4] = (initialize[initialize.length - 4] as number) ^ 0x01; // last cryptogram byte
    responses[1] = initialize;
    expect(() => dl.scriptResult(responses)).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_CRYPTOGRAM_MISMATCH' }));
  });
});

describe('power loss during the download', () => {
  let directory: string | undefined;
  afterEach(() => {
    if (directory) rmSync(directory, { recursive: true, force: true });
    directory = undefined;
  });

  /** Loses power at the n-th occurrence of `step`. */
  function powerLossAt(step: string, occurrence: number) {
    let seen = 0;
    let armed = true;
    return {
      disarm: () => (armed = false),
      powerLossAt: (name: string) => armed && name === step && ++seen === occurrence,
    };
  }

  it.each([
    ['download:segment', 2],
    ['download:install', 1],
  ])('at %s (#%i): no half profile, never enabled, and a new download then succeeds (FileCardStore)', (step, occurrence) => {
    directory = mkdtempSync(join(tmpdir(), 'es8-'));
    const store = new FileCardStore(directory);
    const fault = powerLossAt(step, occurrence);
    const { euicc, session, keySet, isdRKeys } = personalizedCard({ pki, store, faults: fault });
    const { segments } = openDownload(session, keySet);
    expect(() => segments.forEach((segment) => session.expectOk(segment))).toThrow(PowerLoss);

    // After the reboot: the stored card holds the PERSONALIZED ISD-P, no profile, nothing enabled.
    const rebooted = VirtualEuicc.load(euicc.eid, { store });
    expectPersonalizedWithoutProfile(rebooted);
    expect(rebooted.snapshot().isdps.some((isdp) => isdp.lifeCycle === ISDP_LIFE_CYCLE.ENABLED)).toBe(false);
    expectPersonalizedWithoutProfile(euicc);

    fault.disarm();
    const newSession = openEs5(euicc, isdRKeys);
    expect(download(newSession, keySet, personalisedPackage())).toEqual({ peStatus: [{ status: 0 }] });
    expect(euicc.snapshot().isdps[0]?.lifeCycle).toBe(ISDP_LIFE_CYCLE.DISABLED);
    expect(VirtualEuicc.load(euicc.eid, { store }).snapshot().isdps[0]?.profile?.iccid).toBe(PROFILE.iccid);
  });
});
