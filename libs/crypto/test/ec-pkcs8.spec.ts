import { describe, expect, it } from '@jest/globals';
import { createPrivateKey, diffieHellman, generateKeyPairSync } from 'node:crypto';
import { eckaKeyPairFromPkcs8, encodeEcPrivateKeyPkcs8, exportRawPublicKey, generateEckaKeyPair, importRawPublicKey, type CurveName } from '../src/ec';
import { errorCode } from './kat-support';

const CURVES: Array<[CurveName, string]> = [
  ['P-256', 'prime256v1'],
  ['brainpoolP256r1', 'brainpoolP256r1'],
];

/** d from OpenSSL's own SEC1 export (RFC 5915: 30 L 02 01 01 04 20 d …). */
function scalarOf(key: ReturnType<typeof generateKeyPairSync>['privateKey']): Buffer {
  const sec1 = key.export({ type: 'sec1', format: 'der' });
  return sec1.subarray(7, 39);
}

describe('EC private keys as PKCS#8 without a KeyObject (a card\'s SK.ECASD.ECKA)', () => {
  it.each(CURVES)('%s: the hand-built PKCS#8 is byte for byte what OpenSSL exports', (curve, nodeCurve) => {
    for (let i = 0; i < 5; i += 1) {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: nodeCurve });
      const openssl = privateKey.export({ type: 'pkcs8', format: 'der' });
      expect(encodeEcPrivateKeyPkcs8(curve, scalarOf(privateKey)).toString('hex')).toBe(openssl.toString('hex'));
    }
  });

  it.each(CURVES)('%s: the ECKA pair read from PKCS#8 agrees the same secret as OpenSSL with the KeyObject', (curve, nodeCurve) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: nodeCurve });
    const pair = eckaKeyPairFromPkcs8(privateKey.export({ type: 'pkcs8', format: 'der' }));
    expect(pair.curve).toBe(curve);
    expect(pair.publicPoint.equals(exportRawPublicKey(publicKey))).toBe(true);
    const peer = generateEckaKeyPair(curve);
    const expected = diffieHellman({ privateKey, publicKey: importRawPublicKey(curve, peer.publicPoint) });
    expect(pair.agree(peer.publicPoint).equals(expected)).toBe(true);
    // and the hand-built encoding imports in OpenSSL as the same key
    expect(createPrivateKey({ key: encodeEcPrivateKeyPkcs8(curve, scalarOf(privateKey)), format: 'der', type: 'pkcs8' }).equals(privateKey)).toBe(true);
  });

  it('refuses what is not an EC PKCS#8 key on a supported curve, with typed errors', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const good = privateKey.export({ type: 'pkcs8', format: 'der' });
    expect(errorCode(() => eckaKeyPairFromPkcs8(good.subarray(0, good.length - 1)))).toBe('ERR_CRYPTO_INVALID_KEY');
    expect(errorCode(() => eckaKeyPairFromPkcs8(Buffer.of(0x30, 0x00)))).toBe('ERR_CRYPTO_INVALID_KEY');
    const secp384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ type: 'pkcs8', format: 'der' });
    expect(errorCode(() => eckaKeyPairFromPkcs8(secp384))).toBe('ERR_CRYPTO_UNSUPPORTED_CURVE');
    const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'der' });
    expect(['ERR_CRYPTO_UNSUPPORTED_CURVE', 'ERR_CRYPTO_INVALID_KEY']).toContain(errorCode(() => eckaKeyPairFromPkcs8(ed)));
    expect(errorCode(() => encodeEcPrivateKeyPkcs8('P-256', Buffer.alloc(32)))).toBe('ERR_CRYPTO_INVALID_KEY'); // d = 0
    expect(errorCode(() => encodeEcPrivateKeyPkcs8('P-256', Buffer.alloc(31, 1)))).toBe('ERR_CRYPTO_INVALID_KEY');
  });
});
