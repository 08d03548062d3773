/**
 * The signed device status document (docs/owner-registry.md "Device status"): a compact JWS the owner
 * registry makes with its consent-signing key and the SM-DP / SM-SR verify with the registry's JWKS —
 * the same keys as consents, told apart by the explicit `typ` (RFC 8725 §3.11).
 *
 * Header `{ alg: 'ES256', kid, typ: 'rsp-device-status+jwt' }`; claims
 * `{ iss: <registry URL>, sub: <EID>, iat, version, owned, status, consentEpoch, revokedConsents,
 * recentlyTransferredAt?, updatedAt }`. `version` is the registry's per-device counter, bumped in the
 * transaction of every status change: a holder never replaces a status by one of a lower version (replay).
 * No `exp`: a status stays true until the registry publishes a newer version.
 *
 * The bytes are the same on MQTT (retained payload) and over HTTP (`GET /device-status/{eid}`,
 * `application/jwt`). SGP.02 has no owner status: everything here is this project's design [U].
 */
import { KeyObject, type webcrypto } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { ecdsaSignPlain } from '@rsp/crypto';
import { RspError } from '@rsp/errors';
import { DeviceStatusInvalid, parseDeviceStatus, type DeviceStatus } from './device-status';

/** JOSE `typ` of a status document: a consent or an ID token never passes as one, nor the reverse. */
export const DEVICE_STATUS_TYPE = 'rsp-device-status+jwt';
/** Media type of the document over HTTP (RFC 7519 §10.3.1). */
export const DEVICE_STATUS_MEDIA_TYPE = 'application/jwt';
/** `version` of the document the registry signs for an EID it does not know ("not registered"). */
export const UNREGISTERED_VERSION = 0;
/** Larger payloads are refused before any parsing (10 000 revoked jti of 256 characters fit). */
export const MAX_DEVICE_STATUS_BYTES = 4 * 1024 * 1024;
const ALGORITHM = 'ES256';
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** A device status with the registry's per-device version. */
export interface VersionedDeviceStatus extends DeviceStatus {
  /** Monotonic per device; 0 = the registry does not know the EID. */
  version: number;
}

/** An empty payload (a cleared retained message, an empty HTTP body). */
export class DeviceStatusEmpty extends RspError {
  static override readonly code = 'ERR_DEVICE_STATUS_EMPTY';
}
/** Not a compact JWS at all (e.g. the plain JSON of a forger), or too large. */
export class DeviceStatusUnsigned extends RspError {
  static override readonly code = 'ERR_DEVICE_STATUS_UNSIGNED';
}
/** Signature, key (`kid`), `alg`, `typ` or `iss` refused: not made by the registry's consent key. */
export class DeviceStatusSignatureInvalid extends RspError {
  static override readonly code = 'ERR_DEVICE_STATUS_SIGNATURE_INVALID';
}
/** The registry's JWKS could not be fetched, so nothing can be verified now. */
export class DeviceStatusKeysUnavailable extends RspError {
  static override readonly code = 'ERR_DEVICE_STATUS_KEYS_UNAVAILABLE';
}
/** A genuine document about another EID than the topic / the request names. */
export class DeviceStatusEidMismatch extends RspError {
  static override readonly code = 'ERR_DEVICE_STATUS_EID_MISMATCH';
}

export interface SignDeviceStatusOptions {
  /** The registry URL (`iss`). */
  issuer: string;
  key: { privateKey: KeyObject | webcrypto.CryptoKey; kid: string };
  now?: Date;
}

/**
 * Signs a status document (the owner registry's side); DeviceStatusInvalid on a malformed status.
 *
 * The compact JWS is made here (RFC 7515 §7.1: BASE64URL(header) '.' BASE64URL(claims) '.' BASE64URL(R || S),
 * the ES256 signature as RFC 7518 §3.4 has it) with @rsp/crypto's ecdsaSignPlain (node:crypto, one-shot), not jose's WebCrypto
 * path: the registry signs a document for every device a service meets first, and that took 100 µs of CPU
 * per document where this takes 30 (docs/performance.md, round sixteen). The verifier stays jose's.
 */
export async function signDeviceStatus(status: VersionedDeviceStatus, options: SignDeviceStatusOptions): Promise<string> {
  const checked = parseDeviceStatus(status);
  const version = checkedVersion(status.version);
  const { eid, ...document } = checked;
  const header = { alg: ALGORITHM, kid: options.key.kid, typ: DEVICE_STATUS_TYPE };
  const claims = { ...document, version, iss: options.issuer, sub: eid, iat: Math.floor((options.now ?? new Date()).getTime() / 1000) };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const key = options.key.privateKey instanceof KeyObject ? options.key.privateKey : KeyObject.from(options.key.privateKey);
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new TypeError('the consent key must be a P-256 private key (ES256)');
  }
  return `${signingInput}.${ecdsaSignPlain(key, Buffer.from(signingInput)).toString('base64url')}`;
}

const base64url = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');

export interface DeviceStatusVerifierOptions {
  /** The owner registry URL (`iss`). */
  issuer: string;
  /** The registry's JWKS URL (fetched and cached, refetched for an unknown `kid`) or the key set itself. */
  jwks: string | JSONWebKeySet;
}

type KeyResolver = ReturnType<typeof createLocalJWKSet> | ReturnType<typeof createRemoteJWKSet>;

/**
 * Verifies status documents over the received bytes: signature by any key of the JWKS (by `kid`, so a
 * key rotation is seamless), `alg` ES256, `typ`, `iss`, then the claims, then `sub` = the expected EID.
 * Throws exactly one of the typed errors above (or DeviceStatusInvalid for malformed claims).
 */
export class DeviceStatusVerifier {
  private readonly keys: KeyResolver;

  constructor(private readonly options: DeviceStatusVerifierOptions) {
    this.keys = typeof options.jwks === 'string' ? createRemoteJWKSet(new URL(options.jwks)) : createLocalJWKSet(options.jwks);
  }

  async verify(payload: string | Uint8Array, expectedEid: string): Promise<VersionedDeviceStatus> {
    if (payload.length === 0) throw new DeviceStatusEmpty('empty device status');
    if (payload.length > MAX_DEVICE_STATUS_BYTES) throw new DeviceStatusUnsigned('device status too large');
    const token = (typeof payload === 'string' ? payload : Buffer.from(payload).toString('latin1')).trim();
    if (!COMPACT_JWS.test(token)) throw new DeviceStatusUnsigned('device status is not a compact JWS');
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, this.keys, {
        algorithms: [ALGORITHM],
        typ: DEVICE_STATUS_TYPE,
        issuer: this.options.issuer,
        requiredClaims: ['iss', 'sub', 'iat'],
      }));
    } catch (error) {
      throw joseFailure(error);
    }
    const { sub, version, ...members } = claims as JWTPayload & { version?: unknown };
    const status = { ...parseDeviceStatus({ ...members, eid: sub }), version: checkedVersion(version) };
    if (status.eid !== expectedEid) throw new DeviceStatusEidMismatch('device status is about another EID');
    return status;
  }
}

function checkedVersion(version: unknown): number {
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) throw new DeviceStatusInvalid('version: expected a non-negative integer');
  return version;
}

/** jose's failure → ours; the message names jose's code only (never token contents). */
function joseFailure(error: unknown): RspError {
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid) {
    return new DeviceStatusKeysUnavailable('registry signing keys unavailable', { cause: error });
  }
  if (error instanceof joseErrors.JOSEError) return new DeviceStatusSignatureInvalid(`device status signature refused (${error.code})`, { cause: error });
  // A failed JWKS fetch (network) surfaces as a plain Error from fetch.
  return new DeviceStatusKeysUnavailable('registry signing keys unavailable', { cause: error });
}
