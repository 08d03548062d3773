/**
 * Owner checks of the SM-SR (docs/owner-registry.md): run by the SGP.02 frame (row guard) after validation and the
 * requester check, BEFORE the idempotency claim and any ES5 traffic (a refusal is never stored, so the
 * same functionCallIdentifier can be repeated with a consent).
 *
 * | iface | functions | check | refusal |
 * |---|---|---|---|
 * | ES3, ES4 | any profile function | a VERIFIED device status (signed by the registry; on a miss fetched from it) | 8.1.1 / 3.7 [U] |
 * | ES3, ES4 | any profile function but DeleteISDP / DeleteProfile, on a Suspended / Revoked device | suspension | 8.1 / 3.8 [U] |
 * | ES4 | EnableProfile, DisableProfile, DeleteProfile on an owned device | `X-Owner-Consent` present | 8.1.1 / 1.2 [U] |
 * | ES4 | same | consent valid for (EID, the MNO, the function, the epoch) | 8.1.1 / 6.1 [U] |
 *
 * ES3 carries no consent: the SM-DP verified it on ES2 (docs/owner-registry.md "Consent tokens").
 * GetEIS / AuditEIS are reads and ES1 is the EUM's registration: neither is checked.
 */
import { authorizeOwnerOperation, ownerOperationOf, type ConsentVerifier, type DeviceStatusLookup } from '@rsp/identity';
import type { SmSrInterface } from './function-runner';
import type { SmSrLogger } from './model';

export class OwnerPolicyGuard {
  constructor(
    private readonly verifier: Pick<ConsentVerifier, 'verify'>,
    /** The VerifiedDeviceStatusCache (fetches a missing status from the registry). */
    private readonly statuses: DeviceStatusLookup,
    private readonly logger: SmSrLogger,
  ) {}

  /** Throws DeviceStatusUnavailable / DeviceSuspended / ERR_CONSENT_* when the call must be refused. */
  async check(iface: SmSrInterface, fn: string, request: object, requester: string, consent: string | undefined): Promise<void> {
    const operation = ownerOperationOf(iface, fn); // the table of @rsp/identity; ES1 has no row
    const eid = (request as { eid?: unknown }).eid;
    if (operation === undefined || operation === 'Read' || typeof eid !== 'string') return;
    try {
      await authorizeOwnerOperation({ statuses: this.statuses, operation, eid, mnoId: requester, consent, checkConsent: iface === 'ES4', verifier: this.verifier });
    } catch (error) {
      this.logger.log(`${iface}.${fn} by ${requester} on ${eid} refused: ${(error as { code?: string }).code ?? 'unexpected error'}`, { eid });
      throw error;
    }
  }
}
