/** The SM-DP's ES8 flow as the tests drive it, on top of {@link openEs5} and the off-card builders. */
import { generateIccid, type TestPki } from '@rsp/pki';
import { buildDefaultTemplate, personaliseProfile, type EuiccResponse } from '@rsp/saip';
import type { CommandApdu } from '@rsp/tlv';
import {
  buildDownloadCommands,
  buildEstablishKeySetStep1,
  buildEstablishKeySetStep2,
  parseEstablishKeySetStep1Response,
  type IsdpKeySet,
} from '@rsp/offcard';
import { ISDP_AID, type Es5Session } from './es8-fixture';

export const PROFILE = {
  iccid: generateIccid('8900012', 4242),
  imsi: '001010123456789',
  ki: Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex'),
  opc: Buffer.from('f0e0d0c0b0a090807060504030201000', 'hex'),
};

export function personalisedPackage(iccid = PROFILE.iccid): Buffer {
  return personaliseProfile(buildDefaultTemplate(), { ...PROFILE, iccid });
}

/** 3A01 step: returns the challenge. */
export function sendCertificate(session: Es5Session, certificate: Buffer, isdpAid = ISDP_AID): Buffer {
  const [install, storeCertificate] = buildEstablishKeySetStep1({ isdpAid, smdpCertificate: certificate }) as [CommandApdu, CommandApdu];
  session.expectOk(install);
  return parseEstablishKeySetStep1Response(session.expectOk(storeCertificate));
}

/** Both steps with the PKI's SM-DP: returns the key set the SM-DP derived after checking the receipt. */
export function establishKeySet(session: Es5Session, pki: TestPki): IsdpKeySet {
  const challenge = sendCertificate(session, pki.smDp.cert);
  const step2 = buildEstablishKeySetStep2({
    challenge,
    smdpPrivateKey: pki.smDp.privateKey,
    ecasdCertificate: (pki.euiccs[0] as TestPki['euiccs'][number]).ecasd.cert,
  });
  return step2.finish(session.expectOk(step2.apdu));
}

/** The SCP03t download; returns the EUICCResponse of the last segment. */
export function download(
  session: Es5Session,
  keySet: IsdpKeySet,
  profilePackage: Buffer,
  options: { maxSegmentBytes?: number } = {},
): EuiccResponse | undefined {
  const dl = buildDownloadCommands({ isdpAid: ISDP_AID, keys: keySet.keys, kvn: keySet.kvn, package: profilePackage, ...options });
  const lastOf = (script: CommandApdu[]): Buffer => script.map((command) => session.expectOk(command)).at(-1) as Buffer;
  const externalAuthenticate = dl.externalAuthenticate(lastOf(dl.initializeUpdate()));
  const segments = dl.segments(lastOf(externalAuthenticate));
  return dl.result(segments.map((segment) => session.expectOk(segment)));
}
