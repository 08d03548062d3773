/**
 * The raw APDU endpoint is enough to drive the whole card without our services: this test plays the
 * SM-SR (ES5 over SCP03 with the ISD-R keys) and the SM-DP (ES8: Scenario#3 and the SCP03t download)
 * with nothing but `POST /euicc/{eid}/apdu` and the libs, as an outside tool would.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Scp03Host } from '@rsp/crypto';
import { AID, buildDownloadCommands, buildEstablishKeySetStep1, buildEstablishKeySetStep2, createIsdpApdu, defaultIsdRKeySet, enableApdu, isdpAid, parseEstablishKeySetStep1Response } from '@rsp/offcard';
import { generateIccid, generateTestPki, type TestPki } from '@rsp/pki';
import { buildDefaultTemplate, personaliseProfile } from '@rsp/saip';
import { decodeResponseApdu, encodeCommandApdu, type CommandApdu, type ResponseApdu } from '@rsp/tlv';
import { startDeviceApi, type DeviceApi } from '../src/device-api';
import { Fleet } from '../src/fleet';

let pki: TestPki;
let fleet: Fleet;
let api: DeviceApi;
let eid: string;

beforeAll(async () => {
  pki = generateTestPki({ curve: 'P-256', euiccCount: 0 });
  fleet = await Fleet.create({ size: 2, model: 'oven', pki });
  eid = fleet.eids()[0] as string;
  api = await startDeviceApi(fleet, { port: 0 });
});
afterAll(async () => {
  await api.close();
  await fleet.close();
});

/** One C-APDU through the HTTP endpoint, as hex JSON. */
async function post(apdu: CommandApdu): Promise<ResponseApdu> {
  const response = await fetch(`${api.url}/euicc/${eid}/apdu`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ apdu: encodeCommandApdu(apdu).toString('hex') }),
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { response: string; sw: string };
  const decoded = decodeResponseApdu(Buffer.from(body.response, 'hex'));
  expect(body.sw).toBe(decoded.sw.toString(16).toUpperCase().padStart(4, '0'));
  return decoded;
}

/** The SM-SR side of ES5: SELECT ISD-R, SCP03 handshake, then wrap / unwrap every command. */
async function openEs5(): Promise<(apdu: CommandApdu) => Promise<Buffer>> {
  expect((await post({ cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: Buffer.from(AID.ISD_R, 'hex'), le: 256 })).sw).toBe(0x9000);
  const keys = defaultIsdRKeySet(eid);
  const host = new Scp03Host({ keys, kvn: keys.kvn });
  host.processInitializeUpdateResponse(await post(host.initializeUpdateCommand()));
  host.processExternalAuthenticateResponse(await post(host.externalAuthenticateCommand(0x33)));
  return async (apdu) => {
    const response = host.unwrapResponse(await post(host.wrapCommand(apdu)));
    if (response.sw !== 0x9000) throw new Error(`card answered ${response.sw.toString(16)} to ${apdu.ins.toString(16)}`);
    return response.data;
  };
}

describe('raw APDU endpoint: a full ES5 + ES8 provisioning by hand', () => {
  it('creates an ISD-P, runs Scenario#3, downloads over SCP03t, enables, and the network attach proves the keys', async () => {
    const aid = isdpAid(2);
    const ecasdCertificate = fleet.ecasdCertificate(eid) as Buffer;
    const profile = {
      iccid: generateIccid('8900012', 777),
      imsi: '001010000000777',
      ki: Buffer.from('465b5ce8b199b49faa5f0a2ee238a6bc', 'hex'),
      opc: Buffer.from('cd63cb71954a9f4e48a5994e37a02baf', 'hex'),
    };

    // ES5 (SM-SR): CreateISDP.
    let send = await openEs5();
    await send(createIsdpApdu(aid, { quota: 16_384 }));

    // ES8 step 1 (SM-DP): INSTALL [for personalization] + 3A01 CERT.DP.ECDSA → challenge.
    let challenge: Buffer = Buffer.alloc(0);
    for (const command of buildEstablishKeySetStep1({ isdpAid: aid, smdpCertificate: pki.smDp.cert })) {
      const data = await send(command);
      if (data.length > 0) challenge = parseEstablishKeySetStep1Response(data);
    }
    expect(challenge.length).toBeGreaterThan(0);

    // ES8 step 2: 3A02 (CRT, ePK, signature) → DR + receipt, verified off-card.
    const step2 = buildEstablishKeySetStep2({ challenge, smdpPrivateKey: pki.smDp.privateKey, ecasdCertificate, isdpAid: aid });
    let last: Buffer = Buffer.alloc(0);
    for (const command of step2.commands) last = await send(command);
    const keySet = step2.finish(last); // throws ERR_CRYPTO_RECEIPT_MISMATCH if the card derived other keys

    // ES8 DownloadAndInstallation: SCP03t with the ISD-P keys, a fresh ES5 session per script.
    const pkg = personaliseProfile(buildDefaultTemplate(), profile);
    const download = buildDownloadCommands({ isdpAid: aid, keys: keySet.keys, kvn: keySet.kvn, package: pkg });
    const run = async (script: CommandApdu[]): Promise<Buffer[]> => {
      send = await openEs5();
      const out: Buffer[] = [];
      for (const command of script) out.push(await send(command));
      return out;
    };
    const afterInit = (await run(download.initializeUpdate())).at(-1) as Buffer;
    const afterAuth = (await run(download.externalAuthenticate(afterInit))).at(-1) as Buffer;
    const segmentScript = download.segments(afterAuth);
    const responses = await run(segmentScript);
    const result = download.result(responses);
    expect(result?.peStatus.every((s) => s.status === 0)).toBe(true);

    // ES5: enable the new profile; the device sees it.
    send = await openEs5();
    await send(enableApdu(aid));
    const device = fleet.device(eid);
    expect(device?.identity()).toEqual({ eid, iccid: profile.iccid, imsi: profile.imsi });

    // Network attach through the card's USIM: RES must match what the network computes with the same K/OPc.
    const attach = device?.attach();
    expect(attach).toMatchObject({ type: 'attach', result: 'ok', imsi: profile.imsi });
  });
});
