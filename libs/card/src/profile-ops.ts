/**
 * Profile state transitions of the ISD-R (SGP.02 §3.2–§3.4 procedures, §4.1.1 functions), shared by
 * the ES5 command rows and by the fall-back mechanism. Each works on the command's draft state and
 * enforces the invariants: at most one ENABLED ISD-P; exactly one fall-back holder once any is set;
 * the fall-back profile is never deleted; POL1 rules unless explicitly overridden.
 */
import type { CardContext } from './context';
import { CardError } from '@rsp/offcard';
import { enabledIsdp, findIsdp, ISDP_LIFE_CYCLE, NOTIFICATION_TYPE, type IsdpState, type NotificationState } from './model';
import { queueNotification } from './notifications';

/**
 * POL1 rule bits (profile policy rules). [U] SGP.02 coding not read from the spec text; the order
 * (disable not allowed, delete not allowed, delete when disabled) matches SPEC-NOTES and the SGP.22
 * PPR1/PPR2/PPR3 numbering; bit values b1/b2/b3 are our choice.
 */
export const POL1 = {
  DISABLE_NOT_ALLOWED: 0x01,
  DELETE_NOT_ALLOWED: 0x02,
  DELETE_WHEN_DISABLED: 0x04,
} as const;
export const POL1_ALL_RULES = POL1.DISABLE_NOT_ALLOWED | POL1.DELETE_NOT_ALLOWED | POL1.DELETE_WHEN_DISABLED;

/** True when the ISD-P holds an installed profile (life cycle DISABLED or ENABLED). */
export function isInstalled(isdp: IsdpState): boolean {
  return isdp.lifeCycle === ISDP_LIFE_CYCLE.DISABLED || isdp.lifeCycle === ISDP_LIFE_CYCLE.ENABLED;
}

export function fallbackIsdp(ctx: CardContext): IsdpState | undefined {
  return ctx.state.isdps.find((isdp) => isdp.fallback);
}

/** Removes an ISD-P and its profile; its memory quota returns to the free pool (SGP.02 §3.4). */
export function removeIsdp(ctx: CardContext, isdp: IsdpState): void {
  ctx.state.isdps = ctx.state.isdps.filter((candidate) => candidate.aid !== isdp.aid);
  ctx.volatile.isdpSessions.delete(isdp.aid);
  if (ctx.volatile.personalizationTarget === isdp.aid) ctx.volatile.personalizationTarget = undefined;
}

export interface SwitchOptions {
  /**
   * Fall-back switch (SGP.02 §3.5.x [U]): ignore POL1 "disable not allowed" of the profile being
   * disabled, and do not arm its "delete when disabled" (a radio outage must not destroy a
   * profile — our choice).
   */
  overridePolicy?: boolean;
  notificationType?: number;
  refreshReason: 'profile-enabled' | 'profile-disabled' | 'fallback';
}

/**
 * Makes `target` the enabled profile: the previously enabled one becomes DISABLED (at most one
 * ENABLED, SGP.02 §3.2), a notification is queued and the device is told to REFRESH. POL1 "delete
 * when disabled" of the disabled profile is armed on that notification and carried out when the
 * SM-SR confirms it ({@link deleteOnConfirmation}).
 */
export function switchTo(ctx: CardContext, target: IsdpState, options: SwitchOptions): void {
  const current = enabledIsdp(ctx.state);
  if (current && current.aid !== target.aid) {
    if (!options.overridePolicy && (current.pol1 & POL1.DISABLE_NOT_ALLOWED) !== 0) {
      throw new CardError.PolicyRule(`POL1 of ${current.aid} forbids disabling it`);
    }
    current.lifeCycle = ISDP_LIFE_CYCLE.DISABLED;
  }
  target.lifeCycle = ISDP_LIFE_CYCLE.ENABLED;
  const armDelete = current && current.aid !== target.aid && !options.overridePolicy;
  queueNotification(
    ctx,
    options.notificationType ?? NOTIFICATION_TYPE.PROFILE_CHANGE_SUCCEEDED,
    target.aid,
    armDelete ? { disabledAid: current.aid } : {},
  );
  ctx.emit({
    type: 'profile-switched',
    ...(current ? { fromAid: current.aid } : {}),
    toAid: target.aid,
    ...(target.profile ? { iccid: target.profile.iccid } : {}),
  });
  ctx.emit({ type: 'refresh', reason: options.refreshReason });
}

/**
 * HandleNotificationConfirmation side effect (SGP.02 §3.2 / §4.1.1.11): once the SM-SR confirmed the
 * change, the profile it disabled is deleted if its POL1 says "delete when disabled" and it is still
 * DISABLED and not the fall-back profile. Returns the deleted AIDs.
 */
export function deleteOnConfirmation(ctx: CardContext, notification: NotificationState): string[] {
  const disabled = notification.disabledAid ? findIsdp(ctx.state, notification.disabledAid) : undefined;
  if (!disabled || disabled.lifeCycle !== ISDP_LIFE_CYCLE.DISABLED || disabled.fallback) return [];
  if ((disabled.pol1 & POL1.DELETE_WHEN_DISABLED) === 0) return [];
  removeIsdp(ctx, disabled);
  return [disabled.aid];
}

/** EnableProfile (SGP.02 §4.1.1.2 [U] numbering): the target must be DISABLED (6985). */
export function enableProfile(ctx: CardContext, target: IsdpState): void {
  if (target.lifeCycle !== ISDP_LIFE_CYCLE.DISABLED) {
    throw new CardError.ConditionsNotSatisfied(`ISD-P ${target.aid} is not DISABLED`);
  }
  switchTo(ctx, target, { refreshReason: 'profile-enabled' });
}

/**
 * DisableProfile (SGP.02 §4.1.1.3 [U] numbering): the target must be ENABLED (6985) and allowed by
 * POL1 (69E1). The fall-back profile is enabled instead, so the card never stays without a
 * connectivity profile (our reading of SGP.02 §2.4.x / §3.3 [U]); hence the fall-back profile itself
 * cannot be disabled (6985), and without a fall-back profile no profile can be disabled (6985).
 */
export function disableProfile(ctx: CardContext, target: IsdpState): void {
  if (target.lifeCycle !== ISDP_LIFE_CYCLE.ENABLED) {
    throw new CardError.ConditionsNotSatisfied(`ISD-P ${target.aid} is not ENABLED`);
  }
  if ((target.pol1 & POL1.DISABLE_NOT_ALLOWED) !== 0) {
    throw new CardError.PolicyRule(`POL1 of ${target.aid} forbids disabling it`);
  }
  const fallback = fallbackIsdp(ctx);
  if (!fallback || fallback.aid === target.aid) {
    throw new CardError.ConditionsNotSatisfied('disabling would leave the card without a connectivity profile');
  }
  switchTo(ctx, fallback, { refreshReason: 'profile-disabled' });
}

/** Checks common to DeleteProfile and MasterDelete: never the enabled nor the fall-back profile (6985). */
export function checkDeletable(isdp: IsdpState): void {
  if (isdp.lifeCycle === ISDP_LIFE_CYCLE.ENABLED) throw new CardError.ConditionsNotSatisfied(`ISD-P ${isdp.aid} is ENABLED`);
  if (isdp.fallback) throw new CardError.ConditionsNotSatisfied(`ISD-P ${isdp.aid} holds the fall-back attribute`);
}

/** DeleteProfile (SGP.02 §4.1.1.4 [U] numbering; GP CS §11.2 DELETE): also refused by POL1 "delete not allowed" (69E1). */
export function deleteProfile(ctx: CardContext, isdp: IsdpState): void {
  checkDeletable(isdp);
  if ((isdp.pol1 & POL1.DELETE_NOT_ALLOWED) !== 0) throw new CardError.PolicyRule(`POL1 of ${isdp.aid} forbids deleting it`);
  removeIsdp(ctx, isdp);
  ctx.emit({ type: 'refresh', reason: 'profile-deleted' });
}

/**
 * Connectivity lost (SGP.02 fall-back mechanism, §3.5.x [U]): enable the fall-back profile even if
 * POL1 of the current one says "disable not allowed"; notification type 05. Returns false when there
 * is nothing to switch to (no installed fall-back profile, or it is the enabled one already).
 */
export function fallBack(ctx: CardContext): boolean {
  const fallback = fallbackIsdp(ctx);
  const current = enabledIsdp(ctx.state);
  if (!fallback || fallback.aid === current?.aid || !isInstalled(fallback)) return false;
  switchTo(ctx, fallback, {
    overridePolicy: true,
    notificationType: NOTIFICATION_TYPE.PROFILE_CHANGE_AFTER_FALLBACK,
    refreshReason: 'fallback',
  });
  ctx.emit({ type: 'fallback-triggered', ...(current ? { fromAid: current.aid } : {}), toAid: fallback.aid });
  return true;
}
