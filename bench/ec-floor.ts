/**
 * The elliptic-curve work one first provisioning cannot avoid (GP Amd E Scenario#3, twice: the ISD-R
 * handover with CERT.SR.ECDSA, then the ISD-P key establishment with CERT.DP.ECDSA), timed with node:crypto
 * in the running process so the bench can print its CPU per provisioning as a ratio to it:
 *
 * | who | per Scenario#3 | twice |
 * |---|---|---|
 * | off-card (SM-SR, then SM-DP) | ephemeral key pair, ECKA (ECDH), sign 3A02 | 2 keygen, 2 ECDH, 2 sign |
 * | card | verify CERT.SR / CERT.DP against the CI, verify the 3A02 signature, ECKA | 4 verify, 2 ECDH |
 * | SM-DP | CERT.ECASD.ECKA → EUM → CI (2 verifies) before its Scenario#3 | 2 verify |
 */
import { performance } from 'node:perf_hooks';
import { ecdsaSignPlain, ecdsaVerifyPlain, ecka, generateEcKeyPair } from '@rsp/crypto';
import type { TestPki } from '@rsp/pki';

const COUNTS = { keygen: 2, ecdh: 4, sign: 2, verify: 6 } as const;

export function measureEcFloor(pki: Pick<TestPki, 'curve'>, iterations = 300): { ms: number; operations: string } {
  const data = Buffer.alloc(128, 7);
  const signer = generateEcKeyPair(pki.curve);
  const peer = generateEcKeyPair(pki.curve);
  const signature = ecdsaSignPlain(signer.privateKey, data);
  const time = (operation: () => unknown): number => {
    for (let i = 0; i < 20; i += 1) operation(); // warm-up
    const started = performance.now();
    for (let i = 0; i < iterations; i += 1) operation();
    return (performance.now() - started) / iterations;
  };
  const each = {
    keygen: time(() => generateEcKeyPair(pki.curve)),
    ecdh: time(() => ecka(signer.privateKey, peer.publicKey)),
    sign: time(() => ecdsaSignPlain(signer.privateKey, data)),
    verify: time(() => ecdsaVerifyPlain(signer.publicKey, data, signature)),
  };
  const ms = (Object.keys(COUNTS) as Array<keyof typeof COUNTS>).reduce((sum, op) => sum + COUNTS[op] * each[op], 0);
  return { ms, operations: `${COUNTS.verify} ECDSA verify, ${COUNTS.sign} sign, ${COUNTS.ecdh} ECDH, ${COUNTS.keygen} key pairs on ${pki.curve}` };
}
