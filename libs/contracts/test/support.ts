import { generateTestPki, type TestPki } from '@rsp/pki';
import { signEis, type Eis, type UnsignedEis } from '../src';

let pki: TestPki | undefined;

/** One real test PKI (CI → EUM → CERT.ECASD.ECKA) shared by the contract tests. */
export function testPki(): TestPki {
  pki ??= generateTestPki({ curve: 'P-256', euiccCount: 1 });
  return pki;
}

export const ICCID = '89882119900000000012';
export const ICCID_2 = '89882119900000000020';

/** An unsigned EIS built around the test PKI's first eUICC (real EID, real CERT.ECASD.ECKA). */
export function unsignedEis(): UnsignedEis {
  const { euiccs } = testPki();
  const euicc = euiccs[0];
  if (euicc === undefined) throw new Error('test PKI without eUICC');
  return {
    eid: euicc.eid,
    eumId: 'EUM-TEST',
    productionDate: '2026-11-01',
    platformType: 'virtual-euicc',
    platformVersion: '1.0.0',
    isdPLoadFileAid: 'A0000005591010FFFFFFFF8900000D00',
    isdPModuleAid: 'A0000005591010FFFFFFFF8900000E00',
    ecasd: { aid: 'A0000005591010FFFFFFFF8900000200', certificate: euicc.ecasd.cert.toString('hex') },
    capabilities: { transports: ['MQTT'], rspVersion: '4.2' },
    remainingMemory: 500_000,
    availableMemoryForProfiles: 400_000,
    smsrId: 'SMSR-TEST',
    isdR: { aid: 'A0000005591010FFFFFFFF8900000100' },
    profiles: [
      {
        iccid: ICCID,
        isdpAid: 'A0000005591010FFFFFFFF8900001000',
        mnoId: 'MNO-1',
        state: 'Enabled',
        fallbackAttribute: true,
        smdpId: 'SMDP-TEST',
        pol2: [{ subject: 'PROFILE', action: 'DELETE', qualification: 'Not-Allowed' }],
      },
    ],
  };
}

/** A valid request header. */
export const HEADER = { functionRequesterIdentifier: 'MNO-1', functionCallIdentifier: 'call-0001', validityPeriod: 600 };

let signed: Eis | undefined;

/** {@link unsignedEis} signed with the test EUM's private key. */
export function signedEis(): Eis {
  signed ??= signEis(unsignedEis(), testPki().eum.privateKey);
  return structuredClone(signed);
}
