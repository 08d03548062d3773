/**
 * The SM-DP's inventory API as its clients see it (not an SGP.02 interface: SGP.02 leaves profile ordering
 * out of band). One list of the subscription states for the SM-DP, which stores and filters by them, and
 * for the operator CLI, which validates `--state` and counts by them.
 */

/** Life cycle of a subscription of the SM-DP's pool. */
export const SUBSCRIPTION_STATES = ['available', 'reserved', 'installed', 'deleted'] as const;
export type SubscriptionState = (typeof SUBSCRIPTION_STATES)[number];
