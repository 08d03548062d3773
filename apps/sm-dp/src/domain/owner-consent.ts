/**
 * The owner-consent step of ES2 (docs/owner-registry.md; docs/services.md "Download flow": "one more
 * step before step 1"). Runs after the MNO is authenticated and the request validated, BEFORE the
 * idempotency claim and any ES3 / card traffic:
 *
 * | # | check | outcome on refusal |
 * |---|---|---|
 * | 0 | a VERIFIED device status (signed by the registry; on a miss fetched from it) | Failed 8.1.1 / 3.7 [U] |
 * | 1 | device Suspended / Revoked: only DeleteProfile | Failed 8.1 / 3.8 [U] |
 * | 2 | owned device: `X-Owner-Consent` present | Failed 8.1.1 / 1.2 [U] |
 * | 3 | consent: signature (registry JWKS), iss, aud, exp, sub = EID, mno = the MNO, ops ∋ function, epoch, jti | Failed 8.1.1 / 6.1 [U] |
 *
 * GetEIS is a read: no status needed. A refusal is answered directly and never stored under the
 * functionCallIdentifier, so the MNO can repeat the same call with a consent (or once the registry answers).
 */
import { toExecutionStatus, type FunctionExecutionStatus } from '@rsp/contracts';
import { authorizeOwnerOperation, OWNER_OPERATIONS, type ConsentVerifier, type DeviceStatusLookup } from '@rsp/identity';
import type { Logger } from './download-service';
import type { Es2Function } from './es2-service';

export class OwnerConsentCheck {
  constructor(
    private readonly verifier: Pick<ConsentVerifier, 'verify'>,
    /** The VerifiedDeviceStatusCache (fetches a missing status from the registry). */
    private readonly statuses: DeviceStatusLookup,
    private readonly logger: Logger,
  ) {}

  /** undefined when the call may go on; else the Failed status to answer. */
  async refusal(fn: Es2Function, eid: string, mnoId: string, consent: string | undefined): Promise<FunctionExecutionStatus | undefined> {
    try {
      await authorizeOwnerOperation({ statuses: this.statuses, operation: OWNER_OPERATIONS.ES2[fn], eid, mnoId, consent, checkConsent: true, verifier: this.verifier });
      return undefined;
    } catch (error) {
      this.logger.log(`ES2 ${fn} for ${mnoId} on ${eid} refused: ${(error as { code?: string }).code ?? 'unexpected error'}`, { eid });
      return toExecutionStatus(error, eid);
    }
  }
}
