/**
 * The USIM of the enabled profile: AUTHENTICATE in 3G context (3GPP TS 31.102 §7.1.2; AKA per
 * TS 33.102 §6.3.3 with Milenage, TS 35.206).
 *
 *   00 88 00 81 22 10 RAND(16) 10 AUTN(16) [00]
 *     success          → DB 08 RES 10 CK 10 IK, 9000        (TS 31.102 §7.1.2.1; no Kc: service 27 not offered)
 *     MAC failure      → 9862                                (TS 31.102 §7.1.2.1 / §7.3)
 *     SQN out of range → DC 0E AUTS, 9000                    (TS 31.102 §7.1.2.1 "synchronisation failure")
 *
 * The accepted SQN becomes SQN_MS and is persisted with the command (TS 33.102 §6.3.3).
 */
import { verifyAutn } from '@rsp/crypto';
import { encodeTlv, type CommandApdu } from '@rsp/tlv';
import type { CardContext, CommandHandler } from '../context';
import { ok } from '../dispatcher';
import { CardError } from '@rsp/offcard';
import { enabledIsdp } from '../model';

/** P2 81: specific reference data, 3G security context (TS 31.102 §7.1.2 Table). */
const P2_3G_CONTEXT = 0x81;
const SW_AUTHENTICATION_MAC_FAILURE = 0x9862;
const RAND_BYTES = 16;
const AUTN_BYTES = 16;

/** `L RAND L AUTN` (TS 31.102 §7.1.2.1 command parameters). */
function parseChallenge(data: Buffer): { rand: Buffer; autn: Buffer } {
  if (data.length !== 2 + RAND_BYTES + AUTN_BYTES || data[0] !== RAND_BYTES || data[1 + RAND_BYTES] !== AUTN_BYTES) {
    throw new CardError.WrongLength('AUTHENTICATE data must be 10 RAND 10 AUTN');
  }
  return { rand: data.subarray(1, 1 + RAND_BYTES), autn: data.subarray(2 + RAND_BYTES) };
}

function authenticate(ctx: CardContext, apdu: CommandApdu) {
  if (apdu.p1 !== 0x00 || apdu.p2 !== P2_3G_CONTEXT) throw new CardError.IncorrectP1P2('only the 3G context (00 81) is supported');
  const { rand, autn } = parseChallenge(apdu.data);
  const profile = enabledIsdp(ctx.state)?.profile;
  if (!profile) throw new CardError.ConditionsNotSatisfied('no enabled profile');
  const result = verifyAutn({
    k: Buffer.from(profile.ki, 'hex'),
    opc: Buffer.from(profile.opc, 'hex'),
    rand,
    autn,
    sqnMs: Buffer.from(profile.sqnMs, 'hex'),
  });
  switch (result.kind) {
    case 'mac_failure':
      ctx.emit({ type: 'attach', result: 'mac-failure', imsi: profile.imsi });
      return { data: Buffer.alloc(0), sw: SW_AUTHENTICATION_MAC_FAILURE };
    case 'sync_failure':
      ctx.emit({ type: 'attach', result: 'sync-failure', imsi: profile.imsi });
      return ok(encodeTlv(0xdc, result.auts));
    case 'ok': {
      profile.sqnMs = result.sqn.toString('hex');
      ctx.emit({ type: 'attach', result: 'ok', imsi: profile.imsi });
      const lv = (value: Buffer) => Buffer.concat([Buffer.of(value.length), value]);
      return ok(Buffer.concat([Buffer.of(0xdb), lv(result.res), lv(result.ck), lv(result.ik)]));
    }
  }
}

export const NETWORK_COMMANDS: CommandHandler[] = [
  {
    name: 'USIM AUTHENTICATE (3G context)',
    spec: '3GPP TS 31.102 §7.1.2',
    app: 'usim',
    secured: false,
    matches: (apdu) => (apdu.cla & 0xf0) === 0x00 && apdu.ins === 0x88,
    handle: authenticate,
  },
];
