/** Helpers for the X.509 / chain tests: build deliberately bad certificates under a test PKI. */
import { expect } from '@jest/globals';
import type { KeyObject } from 'node:crypto';
import { generateEcKeyPair, type CurveName } from '@rsp/crypto';
import { issueGpCertificate } from '../src/gp-certificate';
import { GP_ROLE, gpDiscretionaryData, type GpRole } from '../src/gp-roles';
import { OID } from '../src/oids';
import {
  ext,
  issueX509Certificate,
  subjectKeyIdOf,
  type DistinguishedName,
  type ExtensionSpec,
} from '../src/x509-builder';
import { KEY_USAGE, parseX509Certificate } from '../src/x509-parse';
import { EUM_NAME, randomSerial, type X509Credential } from '../src/test-pki';

export const DAY_MS = 24 * 60 * 60 * 1000;
export const NOW = new Date('2026-06-01T12:00:00Z');

export interface IssueOptions {
  subject?: DistinguishedName;
  /** Extensions after AKI/SKI; defaults to a good EUM profile. */
  extensions?: ExtensionSpec[];
  notBefore?: Date;
  notAfter?: Date;
  /** Replace the AKI (default: issuer SKI); null leaves it out. */
  authorityKeyId?: Buffer | null;
  /** Sign with this key instead of the issuer's. */
  signingKey?: KeyObject;
  serialNumber?: bigint;
}

/** The EUM profile of test-pki.ts, for variations. */
export function eumExtensions(overrides: { permittedEins?: string[] } = {}): ExtensionSpec[] {
  return [
    ext.basicConstraints(true, 0),
    ext.keyUsage(KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign),
    ext.certificatePolicies([OID.roleEum]),
    ext.permittedEins(overrides.permittedEins ?? ['89049032']),
  ];
}

/** Issues an X.509 certificate under `issuer` with a fresh key on `curve`. */
export function issueUnder(issuer: X509Credential, curve: CurveName, options: IssueOptions = {}): X509Credential {
  const { privateKey, publicKey } = generateEcKeyPair(curve);
  const subjectKeyId = subjectKeyIdOf(publicKey);
  const aki = options.authorityKeyId === undefined ? issuer.subjectKeyId : options.authorityKeyId;
  const der = issueX509Certificate(
    {
      serialNumber: options.serialNumber ?? randomSerial(),
      subject: options.subject ?? EUM_NAME,
      issuer: issuer.cert.subject,
      notBefore: options.notBefore ?? new Date(NOW.getTime() - DAY_MS),
      notAfter: options.notAfter ?? new Date(NOW.getTime() + 365 * DAY_MS),
      publicKey,
      extensions: [
        ...(aki ? [ext.authorityKeyId(aki)] : []),
        ext.subjectKeyId(subjectKeyId),
        ...(options.extensions ?? eumExtensions()),
      ],
    },
    options.signingKey ?? issuer.privateKey,
  );
  return { privateKey, publicKey, der, cert: parseX509Certificate(der), subjectKeyId };
}

/** A self-signed CI-like root with the given name and extensions. */
export function selfSigned(curve: CurveName, subject: DistinguishedName, extensions?: ExtensionSpec[]): X509Credential {
  const { privateKey, publicKey } = generateEcKeyPair(curve);
  const subjectKeyId = subjectKeyIdOf(publicKey);
  const der = issueX509Certificate(
    {
      serialNumber: randomSerial(),
      subject,
      issuer: subject,
      notBefore: new Date(NOW.getTime() - DAY_MS),
      notAfter: new Date(NOW.getTime() + 3650 * DAY_MS),
      publicKey,
      extensions: [
        ext.subjectKeyId(subjectKeyId),
        ...(extensions ?? [
          ext.basicConstraints(true),
          ext.certificatePolicies([OID.roleCi]),
          ext.keyUsage(KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign),
        ]),
      ],
    },
    privateKey,
  );
  return { privateKey, publicKey, der, cert: parseX509Certificate(der), subjectKeyId };
}

/** A GP certificate for `role` under an X.509 issuer, with field overrides. */
export function issueGpUnder(
  issuer: X509Credential,
  curve: CurveName,
  role: GpRole,
  overrides: { caId?: Buffer; effectiveDate?: Date; expirationDate?: Date; serialNumber?: Buffer; signingKey?: KeyObject } = {},
): Buffer {
  const { publicKey } = generateEcKeyPair(curve);
  return issueGpCertificate(
    {
      serialNumber: overrides.serialNumber ?? Buffer.from('0102030405060708', 'hex'),
      caId: overrides.caId ?? issuer.subjectKeyId,
      subjectId: subjectKeyIdOf(publicKey),
      keyUsage: GP_ROLE[role].keyUsage,
      effectiveDate: overrides.effectiveDate ?? new Date(NOW.getTime() - DAY_MS),
      expirationDate: overrides.expirationDate ?? new Date(NOW.getTime() + 365 * DAY_MS),
      discretionaryData: gpDiscretionaryData(role),
      authorityKeyId: overrides.caId ?? issuer.subjectKeyId,
      publicKey,
      curve,
    },
    overrides.signingKey ?? issuer.privateKey,
  );
}

/** Copy of `bytes` with the byte at `index` (negative: from the end) XORed with 0x01. */
export function flipByte(bytes: Buffer, index: number): Buffer {
  const copy = Buffer.from(bytes);
  const at = index < 0 ? copy.length + index : index;
  copy[at] = (copy[at] as number) ^ 0x01;
  return copy;
}

/** Asserts that `run` throws an error with `code`. */
export function expectCode(run: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    run();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeDefined();
  expect((thrown as { code?: string }).code).toBe(code);
}
