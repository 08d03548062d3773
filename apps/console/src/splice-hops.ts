/**
 * An ES2 call's diagram down to the eUICC: the SM-DP's transaction has its ES3 calls, and the SM-SR has,
 * under each ES3 call's functionCallIdentifier (the hop's `correlationId`), the ES5 / ES8 scripts it ran on
 * the card for it (docs/services.md "Transactions"). The card's hops go right after the ES3 request they
 * served, in the SM-SR's order: each service's clock orders its own hops, never the other's.
 */
export interface HopLike {
  from?: unknown;
  to?: unknown;
  interface?: unknown;
  kind?: unknown;
  correlationId?: unknown;
}

/** The functionCallIdentifiers of the ES3 requests among an SM-DP transaction's hops, each once, at most `limit`. */
export function es3CallIds(hops: readonly HopLike[], limit = 32): string[] {
  const ids = new Set<string>();
  for (const hop of hops) {
    if (hop.interface === 'ES3' && hop.kind === 'request' && typeof hop.correlationId === 'string') ids.add(hop.correlationId);
    if (ids.size >= limit) break;
  }
  return [...ids];
}

/** The SM-DP's hops with, after each ES3 request, the card's hops the SM-SR recorded for that call. */
export function spliceCardHops<T extends HopLike>(hops: readonly T[], smsrHopsByCallId: ReadonlyMap<string, readonly T[]>): T[] {
  const out: T[] = [];
  for (const hop of hops) {
    out.push(hop);
    if (hop.interface !== 'ES3' || hop.kind !== 'request' || typeof hop.correlationId !== 'string') continue;
    for (const below of smsrHopsByCallId.get(hop.correlationId) ?? []) {
      if (below.from === 'eUICC' || below.to === 'eUICC') out.push(below);
    }
  }
  return out;
}
