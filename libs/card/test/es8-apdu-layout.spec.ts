import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { encodeCommandApdu, SW, type CommandApdu } from '@rsp/tlv';
import { ES8_HEADER } from '@rsp/offcard';
import { buildEstablishKeySetStep1, buildInstallForPersonalization } from '@rsp/offcard';
import { ISDP_AID, makeEs8Card, openEs5, testPki } from './support/es8-fixture';

interface Vectors {
  installForPersonalization: { isdpAid: string; apdu: string }[];
  invalidInstallForPersonalization: { data: string; sw: string; why: string }[];
  dgiHeaders: { dgi: string; valueLength: number; header: string }[];
}
const vectors = JSON.parse(readFileSync(new URL('./vectors/es8-apdus.json', import.meta.url), 'utf8')) as Vectors;

describe('ES8 APDU layout (vectors)', () => {
  it.each(vectors.installForPersonalization)('INSTALL [for personalization] of $isdpAid', ({ isdpAid, apdu }) => {
    expect(encodeCommandApdu(buildInstallForPersonalization(isdpAid)).toString('hex').toUpperCase()).toBe(apdu);
  });

  it.each(vectors.dgiHeaders)('STORE DATA DGI $dgi with $valueLength bytes starts $header', ({ valueLength, header }) => {
    const [, storeData] = buildEstablishKeySetStep1({ isdpAid: ISDP_AID, smdpCertificate: Buffer.alloc(valueLength, 0x7f) }) as [CommandApdu, CommandApdu];
    expect(storeData.data.subarray(0, header.length / 2).toString('hex').toUpperCase()).toBe(header);
  });

  it('sends CERT.DP.ECDSA in 80 E2 09 00 with a one-byte DGI length', () => {
    const cert = testPki('P-256').smDp.cert;
    const [, storeData] = buildEstablishKeySetStep1({ isdpAid: ISDP_AID, smdpCertificate: cert }) as [CommandApdu, CommandApdu];
    expect(storeData).toMatchObject(ES8_HEADER.STORE_DATA_CERTIFICATE);
    expect(storeData.data.subarray(0, 3)).toEqual(Buffer.of(0x3a, 0x01, cert.length));
  });

  it.each(vectors.invalidInstallForPersonalization)('refuses INSTALL data $data with $sw ($why), state unchanged', ({ data, sw }) => {
    const { euicc, isdRKeys } = makeEs8Card({ pki: testPki('P-256') });
    const session = openEs5(euicc, isdRKeys);
    const before = euicc.snapshot();
    const response = session.send({ ...ES8_HEADER.INSTALL_FOR_PERSONALIZATION, data: Buffer.from(data, 'hex') });
    expect(response.sw).toBe(Number.parseInt(sw, 16));
    expect(response.sw).not.toBe(SW.OK);
    expect(euicc.snapshot()).toEqual(before);
  });
});
