/* global fetch */
/**
 * The registry API as the portal calls it: `Authorization: Bearer <ID token>`, JSON, no cookies.
 * A refusal becomes an ApiError carrying the registry's stable code; {@link plainWords} says it
 * the way an owner understands it (the code stays visible beside it for support).
 */

export class ApiError extends Error {
  constructor(httpStatus, code, message, stepUpRequired) {
    super(message);
    this.httpStatus = httpStatus;
    this.code = code;
    this.stepUpRequired = stepUpRequired;
  }
}

const PLAIN_WORDS = {
  ERR_OWNER_CLAIM_CODE_INVALID: 'The claim code does not match this device. Check the code on its label.',
  ERR_OWNER_DEVICE_ALREADY_CLAIMED: 'Someone already owns this device. Ask them for a transfer code.',
  ERR_OWNER_NOT_FOUND: 'No such device, or you have no access to it.',
  ERR_OWNER_FORBIDDEN: 'Your role on this device does not allow this.',
  ERR_OWNER_BAD_REQUEST: 'Something in the form is not valid.',
  ERR_OWNER_GRANT_IMMUTABLE: "The owner's access cannot be changed here; selling the device moves it.",
  ERR_OWNER_TRANSFER_CODE_INVALID: 'That transfer code is wrong, already used or expired.',
  ERR_OWNER_TRANSFER_NOT_ALLOWED: 'This transfer is not possible.',
  ERR_OWNER_PAC_INVALID: 'That porting code (PAC) is wrong, already used or expired.',
  ERR_OWNER_RATE_LIMITED: 'Too many wrong codes. Wait ten minutes, then try again.',
  ERR_OWNER_MNO_UNAVAILABLE: 'That operator cannot be reached from here.',
  ERR_OWNER_ES2_UNREACHABLE: 'The operator cannot be reached right now. Try again later.',
  ERR_OWNER_DEVICE_NOT_ACTIVE: 'The device is blocked: unblock it first.',
  ERR_OWNER_MODEL_MISMATCH: 'These settings come from another model of device.',
  ERR_OWNER_UNAUTHENTICATED: 'Your sign-in is not valid any more. Sign in again.',
  ERR_IDENTITY_STEP_UP_REQUIRED: 'For your safety this needs a recent sign-in. Sign in again, then retry.',
  ERR_IDENTITY_TOKEN_EXPIRED: 'Your sign-in expired. Sign in again.',
  ERR_PORTAL_SIGNED_OUT: 'Your sign-in expired. Sign in again.',
  ERR_PORTAL_REGISTRY_UNREACHABLE: 'The service cannot be reached. Check your connection.',
  ERR_PORTAL_NO_DEVICE: 'Choose a device first.',
  ERR_PORTAL_NO_PROFILE: 'Choose the profile your operator should remove.',
  ERR_PORTAL_BAD_SETTINGS: 'The settings must be a JSON object, like {"temperatureUnit": "C"}.',
};

/** The owner-facing sentence for a refusal, with the registry's detail when it names a field. */
export function plainWords(error) {
  const code = typeof error?.code === 'string' ? error.code : 'ERR_PORTAL_UNEXPECTED';
  const base = PLAIN_WORDS[code] ?? (code.startsWith('ERR_IDENTITY_') ? 'Your sign-in was not accepted. Sign in again.' : 'Something went wrong.');
  const detail = code === 'ERR_OWNER_BAD_REQUEST' || code === 'ERR_OWNER_TRANSFER_NOT_ALLOWED' ? error.message : '';
  return detail ? `${base} (${detail})` : base;
}

/** `api(method, path, body?)` bound to the current session; `onSignedOut` when the token is gone. */
export function createApi(currentSession, onSignedOut) {
  return async function api(method, path, body) {
    const session = currentSession();
    if (!session) {
      onSignedOut();
      throw new ApiError(401, 'ERR_PORTAL_SIGNED_OUT', 'Your sign-in expired: sign in again', false);
    }
    const headers = { accept: 'application/json', authorization: `Bearer ${session.idToken}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, { method, headers, credentials: 'omit', cache: 'no-store', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch {
      throw new ApiError(0, 'ERR_PORTAL_REGISTRY_UNREACHABLE', 'The registry cannot be reached', false);
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!response.ok) {
      const problem = data && typeof data === 'object' ? (data.error && typeof data.error === 'object' ? data.error : data) : {};
      const code = typeof problem.code === 'string' ? problem.code : `HTTP_${response.status}`;
      const message = typeof problem.message === 'string' ? problem.message : '';
      // RFC 9470 §3: insufficient_user_authentication asks for a fresh login.
      const stepUp = code === 'ERR_IDENTITY_STEP_UP_REQUIRED' || /insufficient_user_authentication/.test(response.headers.get('www-authenticate') ?? '');
      throw new ApiError(response.status, code, message, stepUp);
    }
    return data;
  };
}
