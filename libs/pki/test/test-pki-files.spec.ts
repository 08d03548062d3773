import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ecdsaSignPlain, ecdsaVerifyPlain } from '@rsp/crypto';
import { validateEcasdChain, validateSmCertificate } from '../src/chain';
import { generateTestPki } from '../src/test-pki';
import { readTestPki, writeTestPki } from '../src/test-pki-files';

describe.each(['P-256', 'brainpoolP256r1'] as const)('readTestPki (%s)', (curve) => {
  it('reads back what writeTestPki wrote: same certificates, working keys, valid chains', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pki-read-'));
    try {
      const written = generateTestPki({ curve, euiccCount: 1 });
      writeTestPki(written, dir);
      const read = readTestPki(dir, curve);
      expect(read.ci.der.equals(written.ci.der)).toBe(true);
      expect(read.eum.permittedEins).toEqual(written.eum.permittedEins);
      expect(read.smDp.cert.equals(written.smDp.cert)).toBe(true);
      expect(read.euiccs.map((e) => e.eid)).toEqual(written.euiccs.map((e) => e.eid));
      expect(read.eum.subjectKeyId.equals(written.eum.subjectKeyId)).toBe(true);
      // The private keys are the same keys: a signature by the read key verifies under the written one.
      const data = Buffer.from('ES8');
      expect(ecdsaVerifyPlain(written.smDp.publicKey, data, ecdsaSignPlain(read.smDp.privateKey, data))).toBe(true);
      const now = new Date();
      const euicc = read.euiccs[0] as (typeof read.euiccs)[number];
      expect(() => validateEcasdChain({ ecasdCert: euicc.ecasd.cert, eumDer: read.eum.der, ciDer: read.ci.der, now, eid: euicc.eid })).not.toThrow();
      expect(() => validateSmCertificate({ gpCert: read.smSr.cert, ciDer: read.ci.der, expectedRole: 'sm-sr', now })).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the missing file when the directory holds no PKI', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pki-empty-'));
    try {
      expect(() => readTestPki(dir, curve)).toThrow(expect.objectContaining({ code: 'ERR_PKI_MALFORMED', message: expect.stringMatching(/MANIFEST_/) }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
