/**
 * Profile policy rules (SGP.02 §2.4.5 [U section number] "Policy Rules"; SPEC-NOTES "Policy rules").
 *
 * - POL1 lives in the profile and is enforced by the ISD-R (the card answers 69E1); only the MNO changes it.
 * - POL2 lives in the EIS (one list per profile) and is enforced by the SM-SR BEFORE it sends anything.
 * - Where POL1 and POL2 differ, the more restrictive wins.
 *
 * XSD shape (njiwa `Pol2Type` / `Pol2Rule`, namespace esim-messaging/1):
 * ```
 * Pol2Type ::= SEQUENCE OF Rule { Subject: PROFILE, Action: ENABLE | DISABLE | DELETE,
 *                                 Qualification: Not-Allowed | Auto-Delete }
 * ```
 * The three SGP.02 rules map onto it as: "disable not allowed" = DISABLE/Not-Allowed,
 * "delete not allowed" = DELETE/Not-Allowed, "delete when disabled" = DISABLE/Auto-Delete.
 * ENABLE/Not-Allowed exists in njiwa's enum; it is kept (it blocks enabling) but SGP.02 may not use it [U].
 */
import { ContractError } from './errors';
import { arrayOf, jsonSchemaOf, object, oneOf, withSchema, type Check } from './schema';

export const POLICY_SUBJECTS = ['PROFILE'] as const;
export const POLICY_ACTIONS = ['ENABLE', 'DISABLE', 'DELETE'] as const;
export const POLICY_QUALIFICATIONS = ['Not-Allowed', 'Auto-Delete'] as const;

export type PolicyAction = (typeof POLICY_ACTIONS)[number];
export type PolicyQualification = (typeof POLICY_QUALIFICATIONS)[number];

/** One POL1 or POL2 rule. */
export interface PolicyRule {
  subject: (typeof POLICY_SUBJECTS)[number];
  action: PolicyAction;
  qualification: PolicyQualification;
}

/** An operation the SM-SR is about to run on a profile. Master Delete is not one: it bypasses policy rules. */
export type ProfileOperation = 'enable' | 'disable' | 'delete';

/** What a rule does to each operation: `block` refuses it, `auto-delete` lets it run and then deletes the profile. */
export type RuleEffect = 'block' | 'auto-delete';

/**
 * Which operations each rule affects. Note: enabling profile B implicitly disables the enabled profile A
 * (at most one profile is Enabled), so the SM-SR checks A with `disable` as well as B with `enable`.
 */
export const POLICY_RULE_TABLE: Readonly<Record<`${PolicyAction}/${PolicyQualification}`, Partial<Record<ProfileOperation, RuleEffect>>>> = {
  'ENABLE/Not-Allowed': { enable: 'block' },
  'ENABLE/Auto-Delete': {},
  'DISABLE/Not-Allowed': { disable: 'block' },
  'DISABLE/Auto-Delete': { disable: 'auto-delete' },
  'DELETE/Not-Allowed': { delete: 'block' },
  'DELETE/Auto-Delete': {},
};

/** Result of a policy check. */
export interface PolicyDecision {
  allowed: boolean;
  /** The rule that blocked the operation. */
  blockedBy?: PolicyRule;
  /** SGP.02 "delete when disabled": after a successful disable, the profile must be deleted. */
  deleteAfter: boolean;
}

/** Applies POL2 (or any rule list) to `operation`. */
export function checkPol2(rules: readonly PolicyRule[], operation: ProfileOperation): PolicyDecision {
  let deleteAfter = false;
  for (const rule of rules) {
    const effect = POLICY_RULE_TABLE[`${rule.action}/${rule.qualification}`][operation];
    if (effect === 'block') return { allowed: false, blockedBy: rule, deleteAfter: false };
    if (effect === 'auto-delete') deleteAfter = true;
  }
  return { allowed: true, deleteAfter };
}

/** Restrictiveness order per action: Not-Allowed > Auto-Delete > no rule. */
const RESTRICTIVENESS: Record<PolicyQualification, number> = { 'Not-Allowed': 2, 'Auto-Delete': 1 };

/**
 * "More restrictive of POL1/POL2 wins" (SGP.02 policy rules): per action, keeps the most restrictive
 * qualification found in either list. The result has at most one rule per action.
 */
export function mostRestrictive(pol1: readonly PolicyRule[], pol2: readonly PolicyRule[]): PolicyRule[] {
  const byAction = new Map<PolicyAction, PolicyRule>();
  for (const rule of [...pol1, ...pol2]) {
    const current = byAction.get(rule.action);
    if (current === undefined || RESTRICTIVENESS[rule.qualification] > RESTRICTIVENESS[current.qualification]) {
      byAction.set(rule.action, { subject: rule.subject, action: rule.action, qualification: rule.qualification });
    }
  }
  return POLICY_ACTIONS.flatMap((action) => {
    const rule = byAction.get(action);
    return rule === undefined ? [] : [rule];
  });
}

/** Checks `operation` against POL1 and POL2 combined. */
export function checkPolicies(pol1: readonly PolicyRule[], pol2: readonly PolicyRule[], operation: ProfileOperation): PolicyDecision {
  return checkPol2(mostRestrictive(pol1, pol2), operation);
}

/** Runtime validator of one rule. */
export const policyRule: Check<PolicyRule> = object({
  subject: oneOf(POLICY_SUBJECTS),
  action: oneOf(POLICY_ACTIONS),
  qualification: oneOf(POLICY_QUALIFICATIONS),
});

/** Runtime validator of a rule list: at most one rule per action, so a list cannot contradict itself. */
const policyRuleList = arrayOf(policyRule, { max: POLICY_ACTIONS.length });
export const policyRules: Check<PolicyRule[]> = withSchema((value: unknown, path: string): PolicyRule[] => {
  const rules = policyRuleList(value, path);
  const seen = new Set<PolicyAction>();
  rules.forEach((rule, index) => {
    if (seen.has(rule.action)) throw new ContractError.InvalidParameter(`${path}[${index}].action`, 'at most one rule per action');
    seen.add(rule.action);
  });
  return rules;
}, { ...jsonSchemaOf(policyRuleList), description: 'POL2 rules, at most one per action (SGP.02 POL2)' });

/**
 * POL1 as a profile carries it: the SAIP ProfileHeader `pol` byte the ISD-R reads at installation
 * (libs/card profile-ops POL1: b1 disable not allowed, b2 delete not allowed, b3 delete when disabled
 * [U coding]). In rule form, the same three SGP.02 rules as POL2's: DISABLE/Not-Allowed,
 * DELETE/Not-Allowed, DISABLE/Auto-Delete. POL1 has no ENABLE rule and no DELETE/Auto-Delete.
 */
export const POL1_BITS: Readonly<Record<string, number>> = { 'DISABLE/Not-Allowed': 0x01, 'DELETE/Not-Allowed': 0x02, 'DISABLE/Auto-Delete': 0x04 };

/** The POL1 byte of `rules` (InvalidParameter naming the rule POL1 cannot carry). */
export function encodePol1(rules: readonly PolicyRule[], path = 'pol1'): number {
  let byte = 0;
  rules.forEach((rule, index) => {
    const bit = POL1_BITS[`${rule.action}/${rule.qualification}`];
    if (bit === undefined) throw new ContractError.InvalidParameter(`${path}[${index}]`, 'a POL1 rule: DISABLE/Not-Allowed, DELETE/Not-Allowed or DISABLE/Auto-Delete');
    byte |= bit;
  });
  return byte;
}

/** The rules of a POL1 byte (unknown bits are not rules: the card refuses them at installation). */
export function decodePol1(byte: number): PolicyRule[] {
  return Object.entries(POL1_BITS).flatMap(([key, bit]) => {
    if ((byte & bit) === 0) return [];
    const [action, qualification] = key.split('/') as [PolicyAction, PolicyQualification];
    return [{ subject: 'PROFILE' as const, action, qualification }];
  });
}
