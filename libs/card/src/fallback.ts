/**
 * The fall-back mechanism (SGP.02 §3.5.x [U]; SPEC-NOTES "Fall-back attribute"): when the enabled
 * profile loses connectivity the ISD-R enables the fall-back profile by itself, overriding POL1
 * "disable not allowed", queues a notification of type 05 and asks the device for a REFRESH.
 * Called by {@link VirtualEuicc.connectivityLost} inside a card transaction.
 */
import type { CardContext } from './context';
import { fallBack } from './profile-ops';

/** Why the device reports lost connectivity (diagnostics only). */
export type FallbackReason = 'connectivity-lost' | 'attach-failed' | 'network-rejected' | (string & {});

/**
 * Switches to the fall-back profile in `ctx.state` (a draft). Returns false, changing nothing, when
 * there is no installed fall-back profile or it is already the enabled one.
 */
export function triggerFallback(ctx: CardContext, reason: FallbackReason): boolean {
  void reason; // recorded by the caller's logs; the card's behaviour does not depend on it
  ctx.step('fallback');
  return fallBack(ctx);
}
