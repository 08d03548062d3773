/**
 * Which MNO an SM-DP's ES3 calls serve, so that the SM-SR can record them (and the ES5 / ES8 scripts they
 * run) under that MNO's transactions: the MNO's console then draws its ES2 call down to the eUICC
 * (docs/services.md "Transactions").
 *
 * ES3.CreateISDP names the MNO (`mnoId`) of the profile (`iccid`) it makes room for, on a card (`eid`),
 * SGP.02 §5.4 [U exact numbering]. From it:
 * - a call naming that ICCID (ProfileDownloadCompleted, EnableProfile, DisableProfile, DeleteISDP,
 *   UpdatePolicyRules …) serves the profile's MNO;
 * - SendData, which names only the card, serves the download the same SM-DP runs on that card (one at a
 *   time), i.e. its last CreateISDP there.
 * Everything is kept per calling SM-DP, the one the broker proved (es3-controller.ts), never a header
 * field: one SM-DP cannot attribute calls to another's downloads. A call naming a profile this process saw
 * no CreateISDP for (downloaded before a restart, or by another instance) gets its MNO from the registry
 * ({@link Es3Attribution.recall}: one read, on a miss only), when the registry says that SM-DP downloaded
 * it. SendData with nothing before it, GetEIS and AuditEIS, which serve no one download, are not recorded:
 * the log is a record of what happened, not the state of record. Bounded: the oldest entries go first.
 */
export class Es3Attribution {
  private readonly mnoByKey = new Map<string, string>();

  constructor(private readonly capacity = 20_000) {}

  /** The MNO this ES3 call serves, if known; a CreateISDP names it for the calls after it. */
  mnoOf(caller: string, functionName: string, body: unknown): string | undefined {
    const request = (body ?? {}) as { eid?: unknown; iccid?: unknown; mnoId?: unknown };
    const byCard = typeof request.eid === 'string' ? cardKey(caller, request.eid) : undefined;
    const byProfile = typeof request.iccid === 'string' ? profileKey(caller, request.iccid) : undefined;
    if (functionName === 'CreateISDP' && typeof request.mnoId === 'string' && byCard && byProfile) {
      this.remember(byCard, request.mnoId);
      this.remember(byProfile, request.mnoId);
    }
    if (byProfile) return this.mnoByKey.get(byProfile);
    return functionName === 'SendData' && byCard ? this.mnoByKey.get(byCard) : undefined;
  }

  /**
   * A profile's MNO from the registry when {@link mnoOf} knew none: for a call naming an ICCID whose profile
   * that same SM-DP downloaded (its `smdpId`); remembered for the calls after it. CreateISDP makes a
   * profile, so there is none to read.
   */
  async recall(caller: string, functionName: string, body: unknown, profileOf: (iccid: string) => Promise<{ mnoId: string; smdpId: string } | undefined>): Promise<string | undefined> {
    const iccid = (body as { iccid?: unknown } | null)?.iccid;
    if (functionName === 'CreateISDP' || typeof iccid !== 'string') return undefined;
    const profile = await profileOf(iccid);
    if (profile?.smdpId !== caller) return undefined;
    this.remember(profileKey(caller, iccid), profile.mnoId);
    return profile.mnoId;
  }

  private remember(key: string, mnoId: string): void {
    this.mnoByKey.delete(key); // re-inserted last: the map's order is the eviction order
    this.mnoByKey.set(key, mnoId);
    if (this.mnoByKey.size > this.capacity) this.mnoByKey.delete(this.mnoByKey.keys().next().value as string);
  }
}

/** Keys per calling SM-DP: its downloads on a card, and its profiles. */
const cardKey = (caller: string, eid: string): string => `${caller}\u0000eid\u0000${eid}`;
const profileKey = (caller: string, iccid: string): string => `${caller}\u0000iccid\u0000${iccid}`;
