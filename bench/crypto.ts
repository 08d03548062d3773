/**
 * `npm run bench -- crypto`: our protocol operations against the raw node:crypto work they cannot
 * avoid, measured in the same run, so the overhead reads as a ratio (1.00 = no overhead at all).
 */
import { createCipheriv, createPublicKey, diffieHellman, generateKeyPairSync, sign, verify } from 'node:crypto';
import {
  Scp03Card,
  Scp03Host,
  Scenario3Parameter,
  aesCmac,
  cardEstablish,
  computeOpc,
  generateEcKeyPair,
  importRawPublicKey,
  milenage,
  offCardEstablish,
  type CurveName,
} from '@rsp/crypto';
import * as asn1js from 'asn1js';
import { measure, printComparisons, type Comparison } from './harness';

/**
 * importRawPublicKey (libs/crypto ec.ts) wraps each received point in a SubjectPublicKeyInfo, several
 * times per provisioning. Built with asn1js, or by hand as it is; both beside node's own import of it.
 */
function derAssemblyRows(): Comparison[] {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const reference = publicKey.export({ type: 'spki', format: 'der' });
  const point = reference.subarray(reference.length - 65);
  const byAsn1js = () =>
    Buffer.from(
      new asn1js.Sequence({
        value: [
          new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: '1.2.840.10045.2.1' }), new asn1js.ObjectIdentifier({ value: '1.2.840.10045.3.1.7' })] }),
          new asn1js.BitString({ valueHex: point }),
        ],
      }).toBER(),
    );
  if (!byAsn1js().equals(reference)) throw new Error('asn1js SPKI differs from node\'s');
  const nodeImport = measure('createPublicKey(SPKI DER)', () => createPublicKey({ key: reference, format: 'der', type: 'spki' }));
  return [
    { ours: measure('SPKI built with asn1js', byAsn1js), raw: nodeImport },
    { ours: measure('importRawPublicKey (SPKI by hand + createPublicKey)', () => importRawPublicKey('P-256', point)), raw: nodeImport },
  ];
}

const NODE_CURVE: Record<CurveName, string> = { 'P-256': 'prime256v1', brainpoolP256r1: 'brainpoolP256r1' };

function scenario3Rows(curve: CurveName): Comparison[] {
  const ecasd = generateEcKeyPair(curve);
  const crtParams = {
    scenarioParameter: Scenario3Parameter.INCLUDE_DR,
    keySetSize: 3 as const,
    keyId: 0x01,
    keyVersion: 0x30,
  };
  const ephemeral = generateEcKeyPair(curve);
  const offCard = offCardEstablish({ ecasdPublicKey: ecasd.publicKey, crtParams, ephemeral });
  const ePK = offCard.ePK;
  const card = cardEstablish({ ecasdPrivateKey: ecasd.privateKey, ePK, crt: offCard.crt });
  const namedCurve = NODE_CURVE[curve];
  return [
    {
      ours: measure(`Scenario#3 card side, ${curve} (ECKA + KDF + receipt)`, () =>
        cardEstablish({ ecasdPrivateKey: ecasd.privateKey, ePK, crt: offCard.crt }),
      ),
      raw: measure(`ECDH ${curve}`, () => diffieHellman({ privateKey: ecasd.privateKey, publicKey: ephemeral.publicKey })),
    },
    {
      // The ephemeral key is fixed so the card's response verifies; key generation is costed separately.
      ours: measure(`Scenario#3 off-card, ${curve} (CRT + ECKA + KDF + receipt check)`, () =>
        offCardEstablish({ ecasdPublicKey: ecasd.publicKey, crtParams, ephemeral }).finish(card.response),
      ),
      raw: measure(`ECDH ${curve}`, () => diffieHellman({ privateKey: ephemeral.privateKey, publicKey: ecasd.publicKey })),
    },
    {
      ours: measure(`ephemeral key pair ${curve} (generateEcKeyPair)`, () => generateEcKeyPair(curve)),
      raw: measure(`generateKeyPairSync ${curve}`, () => generateKeyPairSync('ec', { namedCurve })),
    },
  ];
}

/** An authenticated SCP03 pair at security level 0x33 (C-MAC, C-DEC, R-MAC, R-ENC). */
function openScp03(): { host: Scp03Host; card: Scp03Card } {
  const keys = { enc: Buffer.alloc(16, 1), mac: Buffer.alloc(16, 2), dek: Buffer.alloc(16, 3) };
  const host = new Scp03Host({ keys, kvn: 0x30 });
  const card = new Scp03Card({ keys, kvn: 0x30, sdAid: Buffer.from('A0000005591010FFFFFFFF8900000100', 'hex') });
  host.processInitializeUpdateResponse(card.initializeUpdate(host.initializeUpdateCommand()));
  host.processExternalAuthenticateResponse(card.externalAuthenticate(host.externalAuthenticateCommand(0x33)));
  return { host, card };
}

function scp03Rows(): Comparison[] {
  const command = { cla: 0x80, ins: 0xe2, p1: 0x90, p2: 0x00, data: Buffer.alloc(1024, 0x5a) };
  const key = Buffer.alloc(16, 7);
  const padded = Buffer.alloc(1040, 0x5a);
  const short = Buffer.alloc(32, 0x5a);
  // What wrapping 1 KiB must cost at least: the counter ICV (1 block), AES-CBC over the padded data,
  // and a CMAC over MCV ‖ header ‖ ciphertext.
  const rawWrap = (): Buffer => {
    const icv = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false).update(Buffer.alloc(16));
    const cbc = createCipheriv('aes-128-cbc', key, icv).setAutoPadding(false);
    const ciphertext = Buffer.concat([cbc.update(padded), cbc.final()]);
    return aesCmac(key, Buffer.concat([Buffer.alloc(21), ciphertext]));
  };
  const sender = openScp03();
  const pair = openScp03();
  return [
    {
      ours: measure('SCP03 wrap of a 1 KiB command (C-MAC + C-DEC, host)', () => sender.host.wrapCommand(command)),
      raw: measure('AES-128 ICV + CBC(1040 B) + CMAC(1061 B)', rawWrap),
    },
    {
      ours: measure('SCP03 wrap + card unwrap of 1 KiB (MAC check + decrypt)', () =>
        pair.card.unwrapCommand(pair.host.wrapCommand(command)),
      ),
      raw: measure('2 × (AES-128 ICV + CBC(1040 B) + CMAC(1061 B))', () => (rawWrap(), rawWrap())),
    },
    {
      // The common case: SCP03 C-MACs and KDF inputs of one to three blocks, hundreds per provisioning.
      ours: measure('AES-CMAC (ours) over 32 B (KDF input, short command)', () => aesCmac(key, short)),
      raw: measure('AES-128-CBC over 32 B (node:crypto, one cipher object)', () => {
        const cbc = createCipheriv('aes-128-cbc', key, Buffer.alloc(16)).setAutoPadding(false);
        return cbc.update(short);
      }),
    },
    {
      ours: measure('AES-CMAC (ours) over 1061 B', () => aesCmac(key, padded)),
      raw: measure('AES-128-CBC over 1061 B (CMAC floor)', () => {
        const cbc = createCipheriv('aes-128-cbc', key, Buffer.alloc(16)).setAutoPadding(false);
        return cbc.update(padded);
      }),
    },
  ];
}

function milenageRows(): Comparison[] {
  const k = Buffer.from('465b5ce8b199b49faa5f0a2ee238a6bc', 'hex');
  const opc = computeOpc(k, Buffer.from('cdc202d5123e20f62b6d676ac72cb318', 'hex'));
  const input = { k, opc, rand: Buffer.alloc(16, 0x23), sqn: Buffer.from('ff9bb4d0b607', 'hex'), amf: Buffer.from('b9b9', 'hex') };
  const block = Buffer.alloc(16, 1);
  return [
    {
      ours: measure('Milenage f1, f1*, f2–f5, f5* (TS 35.206)', () => milenage(input)),
      raw: measure('AES-128 key schedule + 6 block encryptions', () => {
        const cipher = createCipheriv('aes-128-ecb', k, null).setAutoPadding(false);
        for (let i = 0; i < 6; i += 1) cipher.update(block);
      }),
    },
  ];
}

function ecdsaFigures(): void {
  console.log('\n## Raw ECDSA-SHA256 (for scale)');
  console.log('| curve | sign/s | verify/s |');
  console.log('|---|---:|---:|');
  for (const curve of ['P-256', 'brainpoolP256r1'] as const) {
    const { privateKey, publicKey } = generateEcKeyPair(curve);
    const data = Buffer.alloc(200, 1);
    const signature = sign('sha256', data, privateKey);
    const s = measure('sign', () => sign('sha256', data, privateKey));
    const v = measure('verify', () => verify('sha256', data, publicKey, signature));
    console.log(`| ${curve} | ${Math.round(s.opsPerSecond)} | ${Math.round(v.opsPerSecond)} |`);
  }
}

export function runCryptoBench(): void {
  printComparisons('GP Scenario#3 key establishment', [...scenario3Rows('P-256'), ...scenario3Rows('brainpoolP256r1')]);
  printComparisons('SCP03 (GP Amd D), AES-128, security level 0x33', scp03Rows());
  printComparisons('Milenage', milenageRows());
  printComparisons('DER assembly on the key-import hot path (issue 10 item 7: asn1js, or by hand?)', derAssemblyRows());
  ecdsaFigures();
}
