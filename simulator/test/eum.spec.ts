import { describe, expect, it } from '@jest/globals';
import { manufactureFromTestPki } from '@rsp/card';
import { AID, defaultIsdRKeySet } from '@rsp/offcard';
import { eis as eisCheck, parse, verifyEisSignature } from '@rsp/contracts';
import { generateTestPki, validateEcasdChain } from '@rsp/pki';
import { bootstrapProfileFor } from '../src/fleet';
import { buildSignedEis, buildUnsignedEis } from '../src/eum';

const pki = generateTestPki({ curve: 'P-256', euiccCount: 1 });
const eid = pki.euiccs[0]!.eid;
const state = manufactureFromTestPki(pki, 0, { bootstrapProfile: bootstrapProfileFor(eid, 1), isdRKeySets: [defaultIsdRKeySet(eid)] });
const options = { eumId: 'eum.demo', smsrId: 'smsr.demo', eumPrivateKey: pki.eum.privateKey, productionDate: '2026-01-01T00:00:00Z' };

describe('EUM: buildSignedEis (ES1 RegisterEIS input)', () => {
  it('describes the manufactured card and passes the contract validator', () => {
    const eis = parse(eisCheck, buildSignedEis(state, options));
    expect(eis).toMatchObject({
      eid,
      eumId: 'eum.demo',
      smsrId: 'smsr.demo',
      isdR: { aid: AID.ISD_R },
      isdPLoadFileAid: AID.ISD_P_LOAD_FILE,
      isdPModuleAid: AID.ISD_P_MODULE,
      ecasd: { aid: AID.ECASD, certificate: state.ecasd.certificate.toUpperCase() },
    });
    expect(eis.profiles).toEqual([
      expect.objectContaining({
        iccid: state.isdps[0]!.profile!.iccid,
        isdpAid: state.isdps[0]!.aid,
        mnoId: 'bootstrap',
        smdpId: 'bootstrap',
        state: 'Enabled',
        fallbackAttribute: true,
        pol2: [],
      }),
    ]);
    expect(eis.remainingMemory).toBe(state.memory.totalBytes - state.isdps[0]!.memoryQuota);
  });

  it('is signed by the EUM over the EumSignedInfo fields only', () => {
    const eis = buildSignedEis(state, options);
    expect(verifyEisSignature(eis, pki.eum.publicKey)).toBe(true);
    // SM-SR-managed fields may change without breaking the signature …
    expect(verifyEisSignature({ ...eis, remainingMemory: 1, profiles: [] }, pki.eum.publicKey)).toBe(true);
    // … signed fields may not, and another key does not verify.
    expect(verifyEisSignature({ ...eis, eid: pki.euiccs[0]!.eid.replace(/.$/, '0') }, pki.eum.publicKey)).toBe(false);
    expect(verifyEisSignature(eis, pki.smDp.publicKey)).toBe(false);
  });

  it('carries a CERT.ECASD.ECKA that chains to the CI through the EUM', () => {
    const eis = buildUnsignedEis(state, options);
    const validated = validateEcasdChain({
      ecasdCert: Buffer.from(eis.ecasd.certificate, 'hex'),
      eumDer: pki.eum.der,
      ciDer: pki.ci.der,
      now: new Date(),
      eid: eis.eid,
    });
    expect(validated.permittedEins).toEqual(['89049032']);
  });

  it('uses the given owner for the bootstrap profile', () => {
    const eis = buildSignedEis(state, { ...options, bootstrapOwner: { mnoId: 'mno.demo', smdpId: 'smdp.demo' } });
    expect(eis.profiles[0]).toMatchObject({ mnoId: 'mno.demo', smdpId: 'smdp.demo' });
  });
});
