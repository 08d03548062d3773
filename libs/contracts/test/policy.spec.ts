import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { POL1 as CARD_POL1 } from '../../card/src/profile-ops';
import { POL1_BITS, POLICY_ACTIONS, POLICY_QUALIFICATIONS, POLICY_RULE_TABLE, checkPol2, checkPolicies, decodePol1, encodePol1, mostRestrictive, type PolicyRule } from '../src';

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

describe('POL1 as the profile carries it (one byte, SAIP ProfileHeader pol)', () => {
  it('encodes each rule to its bit and back', () => {
    const cases: Array<[RulePair[], number]> = [
      [[], 0],
      [[['DISABLE', 'Not-Allowed']], 0x01],
      [[['DELETE', 'Not-Allowed']], 0x02],
      [[['DISABLE', 'Auto-Delete']], 0x04],
      [[['DISABLE', 'Not-Allowed'], ['DELETE', 'Not-Allowed']], 0x03],
    ];
    for (const [pairs, byte] of cases) {
      expect(encodePol1(rules(pairs))).toBe(byte);
      expect(decodePol1(byte)).toEqual(rules(pairs));
    }
  });

  it('refuses a rule POL1 has no bit for, naming it', () => {
    expect(() => encodePol1(rules([['DISABLE', 'Not-Allowed'], ['ENABLE', 'Not-Allowed']]))).toThrow(expect.objectContaining({ parameter: 'pol1[1]' }));
    expect(() => encodePol1(rules([['DELETE', 'Auto-Delete']]), 'profileType.pol1')).toThrow(expect.objectContaining({ parameter: 'profileType.pol1[0]' }));
  });

  it('uses the bits the card enforces (libs/card POL1)', () => {
    expect(POL1_BITS).toEqual({ 'DISABLE/Not-Allowed': CARD_POL1.DISABLE_NOT_ALLOWED, 'DELETE/Not-Allowed': CARD_POL1.DELETE_NOT_ALLOWED, 'DISABLE/Auto-Delete': CARD_POL1.DELETE_WHEN_DISABLED });
  });
});
