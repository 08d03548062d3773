import { describe, expect, it } from '@jest/globals';
import { IdentityError, requireStepUp, stepUpChallenge, type OwnerIdentity } from '../src';

const NOW = new Date('2030-01-01T00:00:00Z');
const nowSeconds = NOW.getTime() / 1000;
const identity = (extra: Partial<OwnerIdentity>): OwnerIdentity => ({
  iss: 'https://idp.example', sub: 'alice', issuedAt: nowSeconds, expiresAt: nowSeconds + 3600, ...extra,
});
const now = (): Date => NOW;

function stepUpError(fn: () => void): IdentityError.StepUpRequired {
  try {
    fn();
  } catch (error) {
    return error as IdentityError.StepUpRequired;
  }
  throw new Error('expected StepUpRequired');
}

describe('requireStepUp (RFC 9470)', () => {
  it('accepts a login within max_age (default 300 s)', () => {
    expect(() => requireStepUp(identity({ authTime: nowSeconds - 299 }), { now })).not.toThrow();
    expect(() => requireStepUp(identity({ authTime: nowSeconds - 10 }), { now, maxAgeSeconds: 30 })).not.toThrow();
  });

  it('accepts the step-up acr whatever the login age', () => {
    expect(() => requireStepUp(identity({ acr: 'urn:rsp:acr:step-up' }), { now })).not.toThrow();
    expect(() => requireStepUp(identity({ acr: 'urn:x:mfa', authTime: 0 }), { now, acceptedAcr: ['urn:x:mfa'] })).not.toThrow();
  });

  it('refuses an old login, a missing auth_time, a plain acr and an auth_time in the future', () => {
    for (const who of [
      identity({ authTime: nowSeconds - 301 }),
      identity({}),
      identity({ acr: 'urn:rsp:acr:password', authTime: nowSeconds - 3600 }),
      identity({ authTime: nowSeconds + 3600 }),
    ]) {
      const error = stepUpError(() => requireStepUp(who, { now }));
      expect(error.code).toBe('ERR_IDENTITY_STEP_UP_REQUIRED');
      expect(error).toBeInstanceOf(IdentityError.StepUpRequired);
      expect(error.message).toContain('max_age=300');
      expect(error.maxAgeSeconds).toBe(300);
    }
    expect(stepUpError(() => requireStepUp(identity({ authTime: nowSeconds - 61 }), { now, maxAgeSeconds: 60 })).message).toContain('max_age=60');
  });

  it('builds the WWW-Authenticate challenge', () => {
    expect(stepUpChallenge(300)).toBe(
      'Bearer error="insufficient_user_authentication", error_description="A more recent authentication is required", max_age=300',
    );
    expect(stepUpChallenge()).toMatch(/max_age=300$/);
  });
});
