/**
 * OpenAPI request body schemas of the registry's main POST routes (docs/owner-registry.md
 * "Resources"), for `@ApiBody` only: the domain validates (src/domain/validate.ts), not these.
 */
import { applyDecorators } from '@nestjs/common';
import { ApiResponse, type ApiBodyOptions } from '@nestjs/swagger';

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
export const settingsBody: ApiBodyOptions = { schema: { type: 'object', additionalProperties: true, description: "the device's settings document (JSON, at most 16 KiB)" } };
export const applySnapshotBody = object(['snapshotId'], { snapshotId: { type: 'string', format: 'uuid', description: 'one of GET /me/settings-snapshots' } });
export const roleBody = object(['role'], { role: { type: 'string', enum: ['admin', 'user'] } });
export const groupBody = object(['name'], { name: { type: 'string', maxLength: 64, description: 'e.g. "Household"' } });
export const memberBody = object(['iss', 'sub', 'role'], { iss: { type: 'string', format: 'uri' }, sub: { type: 'string' }, role: { type: 'string', enum: ['admin', 'user'] } });
export const groupDeviceBody = object(['eid'], { eid });

/** Response schemas (what the domain returns; docs/owner-registry.md "Resources"). */
const isoTime = { type: 'string', format: 'date-time' };
// OpenAPI 3.0 wants no empty `required` list.
const schema = (required: string[], properties: Properties) => ({ type: 'object', ...(required.length ? { required } : {}), properties });
const status = { type: 'string', enum: ['Active', 'Suspended'] };
const role = { type: 'string', enum: ['owner', 'admin', 'user'] };

export const deviceView = schema(['eid', 'deviceUrl', 'model', 'status', 'role'], {
  eid, deviceUrl, makerId: { type: 'string' }, deviceId: { type: 'string' }, model: { type: 'string' }, status,
  consentEpoch: { type: 'integer', description: 'raised by each sale: consents of an older epoch are refused' },
  recentlyTransferredAt: { ...isoTime, nullable: true }, role,
});
export const grantView = schema(['id', 'role', 'iss', 'sub'], {
  id: { type: 'string', format: 'uuid' }, scope: { type: 'string', enum: ['device', 'group'] }, eid: { ...eid, nullable: true }, groupId: { type: 'string', nullable: true },
  role, iss: { type: 'string', format: 'uri' }, sub: { type: 'string' }, createdAt: isoTime,
});
export const deviceDetail = { allOf: [deviceView, schema([], { settings: { type: 'object' }, grants: { type: 'array', items: grantView }, groups: { type: 'array', items: { type: 'string' } } })] };
export const deviceList = schema(['devices'], { devices: { type: 'array', items: deviceView } });
export const registeredDevice = schema(['eid', 'deviceUrl'], { eid, deviceUrl });
export const settingsView = schema(['eid', 'settings'], { eid, settings: { type: 'object' } });
export const snapshotList = schema(['snapshots'], { snapshots: { type: 'array', items: schema(['id', 'model'], { id: { type: 'string', format: 'uuid' }, model: { type: 'string' }, settings: { type: 'object' }, sourceDeviceUrl: deviceUrl, createdAt: isoTime }) } });
export const auditTrail = schema(['events'], {
  events: {
    type: 'array',
    items: schema(['at', 'actor', 'action', 'outcome'], {
      at: isoTime,
      actor: { type: 'object', description: '{ kind: owner, iss, sub } or { kind: maker | mno, clientId } (anonymous: a refused credential)' },
      action: { type: 'string', example: 'device.claim' }, target: { type: 'string', nullable: true },
      outcome: { type: 'string', description: 'ok, or the refusal code' }, authContext: { type: 'object', nullable: true, description: 'auth_time, acr, amr of the token' },
    }),
  },
});
export const revokedGrant = schema(['id', 'revoked'], { id: { type: 'string' }, revoked: { type: 'boolean' } });
export const groupView = schema(['id', 'name'], { id: { type: 'string' }, name: { type: 'string' }, role });
export const groupDevice = schema(['groupId', 'eid'], { groupId: { type: 'string' }, eid });
export const consentMinted = schema(['consent', 'jti', 'expiresAt'], {
  consent: { type: 'string', description: 'a JWS (ES256): the MNO sends it as X-Owner-Consent with ES2 / ES4 calls' }, jti: { type: 'string' }, expiresAt: isoTime,
});
export const consentRevoked = schema(['jti', 'revokedAt'], { jti: { type: 'string' }, revokedAt: isoTime });
export const consentList = schema(['consents'], {
  consents: {
    type: 'array',
    items: schema(['jti', 'mnoId', 'operations', 'state'], {
      jti: { type: 'string' }, mnoId: { type: 'string' }, operations, createdAt: isoTime, expiresAt: isoTime, revokedAt: { ...isoTime, nullable: true },
      givenByRegistry: { type: 'boolean', description: 'minted by the registry on the owner\'s behalf (resale, porting)' },
      state: { type: 'string', enum: ['active', 'expired', 'revoked', 'superseded'] },
    }),
  },
});
export const transferStarted = schema(['transferId', 'transferCode', 'expiresAt'], { transferId: { type: 'string', format: 'uuid' }, transferCode: code('hand it to the buyer; shown once'), expiresAt: isoTime });
export const redeemed = schema(['eid', 'deviceUrl', 'role', 'consentEpoch'], { eid, deviceUrl, role, consentEpoch: { type: 'integer' } });
export const pacIssued = schema(['pac', 'expiresAt'], { pac: code('3 letters + 6 digits; shown once'), expiresAt: isoTime });
const executionStatus = schema(['status'], { status: { type: 'string', enum: ['Executed-Success', 'Executed-WithWarning', 'Failed', 'Expired'] }, statusCodeData: { type: 'object' } });
export const portResult = schema(['functionExecutionStatus'], { functionExecutionStatus: executionStatus, iccid, donorDeletion: { type: 'string', enum: ['Executed-Success', 'pending'] } });
export const statusChanged = schema(['eid', 'status'], { eid, status, reason: { type: 'string', enum: ['lost', 'stolen', 'compromised'] } });
export const operatorList = schema(['operators'], {
  operators: { type: 'array', items: schema(['mnoId', 'connected', 'acceptsTransfers'], { mnoId: { type: 'string' }, connected: { type: 'boolean' }, acceptsTransfers: { type: 'boolean' } }) },
});
export const profilesOfDevice = schema(['profiles', 'unavailable'], {
  profiles: { type: 'array', items: schema(['mnoId', 'iccid', 'state'], { mnoId: { type: 'string' }, iccid, profileType: { type: 'string', nullable: true }, state: { type: 'string', description: 'SGP.02 Annex E lifecycle name, e.g. Enabled' }, fallback: { type: 'boolean' } }) },
  unavailable: { type: 'array', items: schema(['mnoId', 'reason'], { mnoId: { type: 'string' }, reason: { type: 'string' } }) },
});
/** Every refusal: a stable code (ERR_OWNER_*, ERR_IDENTITY_*) and a message (http-exception.filter.ts). */
export const errorBody = schema(['error'], { error: schema(['code', 'message'], { code: { type: 'string', example: 'ERR_OWNER_FORBIDDEN' }, message: { type: 'string' } }) });

/** The answer of a route (its success status and schema). */
export function answers(status: 200 | 201, body: Record<string, unknown>): ReturnType<typeof applyDecorators> {
  return applyDecorators(ApiResponse({ status, schema: body }));
}

/** The refusals every authenticated route can answer, each `{ error: { code, message } }`. */
export function refusals(): ReturnType<typeof applyDecorators> {
  return applyDecorators(
    ApiResponse({ status: 400, description: 'invalid input (ERR_OWNER_INVALID_INPUT …)', schema: errorBody }),
    ApiResponse({ status: 401, description: 'no or a bad credential (ERR_IDENTITY_*, ERR_OWNER_UNAUTHENTICATED)', schema: errorBody }),
    ApiResponse({ status: 403, description: 'not allowed, wrong code, step-up required (ERR_OWNER_*, ERR_IDENTITY_STEP_UP_REQUIRED)', schema: errorBody }),
    ApiResponse({ status: 404, description: 'no such device, grant or group, or none you hold a grant on', schema: errorBody }),
    ApiResponse({ status: 409, description: 'state conflict (already claimed, not active …)', schema: errorBody }),
    ApiResponse({ status: 429, description: 'too many wrong codes', schema: errorBody }),
  );
}
