/**
 * Step-up authentication (RFC 9470, OAuth 2.0 Step Up Authentication Challenge Protocol): sensitive
 * operations (starting a transfer, reinstating a device) need a recent login (`auth_time` within
 * `max_age`) or a step-up authentication context class (`acr`). See docs/owner-registry.md.
 */
import { IdentityError } from './errors';
import type { OwnerIdentity } from './oidc';

/** The `acr` our dev IdP (and a real one, configured so) asserts after a strong fresh login. */
export const STEP_UP_ACR = 'urn:rsp:acr:step-up';

/** The client id of `npx rsp login` at the dev IdP (CIBA; its ID tokens carry it as audience). */
export const OWNER_CLI_CLIENT_ID = 'owner-cli';
/** Default freshness of a login for step-up operations, in seconds. */
export const STEP_UP_MAX_AGE_SECONDS = 300;

export interface StepUpOptions {
  /** Maximum age of `auth_time`, in seconds (default 300). */
  maxAgeSeconds?: number;
  /** `acr` values accepted whatever the login age (default `['urn:rsp:acr:step-up']`). */
  acceptedAcr?: string[];
  /** Clock (tests; default `new Date()`). */
  now?: () => Date;
}

/**
 * Throws {@link IdentityError.StepUpRequired} unless the identity logged in within `maxAgeSeconds`
 * or carries an accepted `acr`. An `auth_time` in the future (beyond a small skew) is not fresh.
 */
export function requireStepUp(identity: OwnerIdentity, options: StepUpOptions = {}): void {
  const maxAgeSeconds = options.maxAgeSeconds ?? STEP_UP_MAX_AGE_SECONDS;
  const acceptedAcr = options.acceptedAcr ?? [STEP_UP_ACR];
  if (identity.acr !== undefined && acceptedAcr.includes(identity.acr)) return;

  const nowSeconds = Math.floor((options.now ?? (() => new Date()))().getTime() / 1000);
  const authTime = identity.authTime;
  const CLOCK_SKEW_SECONDS = 60;
  if (authTime !== undefined && Number.isFinite(authTime)) {
    const age = nowSeconds - authTime;
    if (age <= maxAgeSeconds && age >= -CLOCK_SKEW_SECONDS) return;
  }
  throw new IdentityError.StepUpRequired(
    `A fresh login is required: sign in again with max_age=${maxAgeSeconds} (or acr ${acceptedAcr.join(' ')})`,
    { maxAgeSeconds },
  );
}

/**
 * The RFC 9470 §3 `WWW-Authenticate` value answering a request that needs step-up, e.g.
 * `Bearer error="insufficient_user_authentication", error_description="…", max_age=300`.
 */
export function stepUpChallenge(maxAgeSeconds: number = STEP_UP_MAX_AGE_SECONDS): string {
  const maxAge = Math.max(0, Math.floor(maxAgeSeconds));
  return (
    'Bearer error="insufficient_user_authentication", ' +
    `error_description="A more recent authentication is required", max_age=${maxAge}`
  );
}
