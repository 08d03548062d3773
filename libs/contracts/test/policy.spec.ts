import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { POLICY_ACTIONS, POLICY_QUALIFICATIONS, POLICY_RULE_TABLE, checkPol2, checkPolicies, mostRestrictive, type PolicyRule } from '../src';

type RulePair = [PolicyRule['action'], PolicyRule['qualification']];
interface Vectors {
  cases: { name: string; rules: RulePair[]; operation: 'enable' | 'disable' | 'delete'; allowed: boolean; deleteAfter: boolean }[];
  combine: { name: string; pol1: RulePair[]; pol2: RulePair[]; result: RulePair[] }[];
}
const vectors = JSON.parse(readFileSync(new URL('./vectors/pol2.json', import.meta.url), 'utf8')) as Vectors;
const rules = (pairs: RulePair[]): PolicyRule[] => pairs.map(([action, qualification]) => ({ subject: 'PROFILE', action, qualification }));

describe('POL2 rules', () => {
  it.each(vectors.cases)('$name', ({ rules: pairs, operation, allowed, deleteAfter }) => {
    const decision = checkPol2(rules(pairs), operation);
    expect(decision.allowed).toBe(allowed);
    expect(decision.deleteAfter).toBe(deleteAfter);
    if (!allowed) expect(decision.blockedBy).toBeDefined();
  });

  it('the rule table covers every action × qualification', () => {
    for (const action of POLICY_ACTIONS) for (const qualification of POLICY_QUALIFICATIONS) expect(POLICY_RULE_TABLE[`${action}/${qualification}`]).toBeDefined();
  });

  it.each(vectors.combine)('more restrictive wins: $name', ({ pol1, pol2, result }) => {
    expect(mostRestrictive(rules(pol1), rules(pol2))).toEqual(rules(result));
  });

  it('checkPolicies applies the combination', () => {
    expect(checkPolicies(rules([['DISABLE', 'Auto-Delete']]), rules([['DISABLE', 'Not-Allowed']]), 'disable').allowed).toBe(false);
    expect(checkPolicies(rules([['DISABLE', 'Auto-Delete']]), [], 'disable')).toEqual({ allowed: true, deleteAfter: true });
  });
});
