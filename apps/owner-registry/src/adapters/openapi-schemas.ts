/**
 * OpenAPI request body schemas of the registry's main POST routes (docs/owner-registry.md
 * "Resources"), for `@ApiBody` only: the domain validates (src/domain/validate.ts), not these.
 */
import type { ApiBodyOptions } from '@nestjs/swagger';

type Properties = Record<string, Record<string, unknown>>;
const object = (required: string[], properties: Properties): ApiBodyOptions => ({ schema: { type: 'object', required, properties } });

const eid = { type: 'string', pattern: '^[0-9]{32}$', description: 'EID (32 digits)' };
const iccid = { type: 'string', pattern: '^[0-9]{18,19}[0-9F]?$' };
const deviceUrl = { type: 'string', format: 'uri', description: '{registryUrl}/{makerDomain}/{deviceId}' };
const code = (description: string) => ({ type: 'string', minLength: 4, maxLength: 128, description });
const operations = { type: 'array', minItems: 1, items: { type: 'string', enum: ['DownloadProfile', 'EnableProfile', 'DisableProfile', 'DeleteProfile'] } };

export const registerDeviceBody = object(['eid', 'deviceId', 'model', 'claimCode'], {
  eid,
  deviceId: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
  model: { type: 'string', maxLength: 64 },
  claimCode: code('stored only as a salted SHA-256'),
});
export const claimBody = object(['deviceUrl', 'claimCode'], { deviceUrl, claimCode: code('the claim code printed with the device') });
export const grantBody = object(['iss', 'sub', 'role'], { iss: { type: 'string', format: 'uri' }, sub: { type: 'string' }, role: { type: 'string', enum: ['admin', 'user'] } });
export const consentBody = object(['mnoId', 'operations'], { mnoId: { type: 'string' }, operations, expiresInSeconds: { type: 'integer', minimum: 1, default: 3600 } });
export const transferBody = object(['subscription'], {
  subscription: { type: 'string', enum: ['leave', 'pass'] },
  mnoId: { type: 'string', description: "the seller's MNO ('leave': disables and deletes its profile; 'pass': must accept transfers)" },
  iccid: { ...iccid, description: "the seller's profile ('leave')" },
});
export const redeemBody = object(['deviceUrl', 'transferCode'], { deviceUrl, transferCode: code('single use, 10 min, 5 attempts') });
export const portBody = object(['pac', 'recipientMnoId', 'profileType'], { pac: code('the PAC from the donor MNO'), recipientMnoId: { type: 'string' }, profileType: { type: 'string', maxLength: 64 } });
export const portingCodeBody = object(['eid', 'iccid'], { eid, iccid });
export const suspendBody = object(['reason'], { reason: { type: 'string', enum: ['lost', 'stolen', 'compromised'] } });
