/**
 * The ISD-R's ES5 secure channel: SCP03 (GP CS v2.3 Amendment D) standing in for SCP80/SCP81.
 *
 *   INITIALIZE UPDATE      80 50 KVN 00 08 host-challenge 00  → div(10) KVN 03 i card-challenge(8) cryptogram(8) counter(3)
 *   EXTERNAL AUTHENTICATE  84 82 level 00 10 host-cryptogram(8) C-MAC(8)
 *
 * KVN 00 picks the first key set. The sequence counter is persisted in the draft state on every
 * INITIALIZE UPDATE, so challenges never repeat across power cycles (Amd D §6.2.2.1).
 *
 * EXTERNAL AUTHENTICATE asking for less than the key set's minimum security level (0x33 unless the set
 * says otherwise, never below 0x13: es5-security-level.ts) is refused with 6982 before any cryptogram
 * is checked, and the attempt is over: a session at 00 / 01 / 03 / 11 would let plain or merely MACed
 * commands reach CreateISDP, DELETE and the rest of ES5.
 */
import { checkSecurityLevel, CryptoError, Scp03Card } from '@rsp/crypto';
import type { CommandApdu } from '@rsp/tlv';
import { AID } from '@rsp/offcard';
import type { CardContext, CommandHandler } from '../context';
import { ES5_DEFAULT_MINIMUM_SECURITY_LEVEL, includesSecurityLevel, levelHex, requiredSecurityLevel } from '../es5-security-level';
import { CardError } from '@rsp/offcard';
import { isCommand } from './common';
import { staticKeys } from '../key-objects';

/** Maps a CryptoError from the channel to its status word (Amd D §7.1.1.3 / §7.1.2.3). */
function refusal(error: unknown): never {
  if (error instanceof CryptoError.InvalidLength) throw new CardError.WrongLength(error.message, { cause: error });
  if (error instanceof CryptoError.InvalidParameter) throw new CardError.IncorrectP1P2(error.message, { cause: error });
  if (error instanceof CryptoError.SecureChannelState) throw new CardError.ConditionsNotSatisfied(error.message, { cause: error });
  throw new CardError.SecurityStatus('secure channel authentication failed', { cause: error });
}

function initializeUpdate(ctx: CardContext, apdu: CommandApdu) {
  ctx.volatile.scp03 = undefined; // Amd D §7.1.1: a new INITIALIZE UPDATE aborts any session
  const keySets = ctx.state.isdR.keySets;
  const keySet = apdu.p1 === 0 ? keySets[0] : keySets.find((k) => k.kvn === apdu.p1);
  if (!keySet) throw new CardError.ReferencedDataNotFound(`no ISD-R key set with KVN ${apdu.p1}`);
  if (apdu.p2 !== 0) throw new CardError.IncorrectP1P2('key identifier must be 00');
  const card = new Scp03Card({
    keys: staticKeys(keySet),
    kvn: keySet.kvn,
    sdAid: Buffer.from(AID.ISD_R, 'hex'),
    sequenceCounter: ctx.state.isdR.sequenceCounter,
  });
  let response;
  try {
    response = card.initializeUpdate({ ...apdu, p1: keySet.kvn });
  } catch (error) {
    refusal(error);
  }
  ctx.state.isdR.sequenceCounter = card.sequenceCounter;
  ctx.volatile.scp03 = card;
  ctx.volatile.scp03RequiredLevel = requiredSecurityLevel(keySet);
  return response;
}

function externalAuthenticate(ctx: CardContext, apdu: CommandApdu) {
  const card = ctx.volatile.scp03;
  if (!card) throw new CardError.ConditionsNotSatisfied('EXTERNAL AUTHENTICATE without INITIALIZE UPDATE');
  try {
    checkSecurityLevel(apdu.p1); // not an Amd D §5.1 combination → 6A86
    const required = ctx.volatile.scp03RequiredLevel ?? ES5_DEFAULT_MINIMUM_SECURITY_LEVEL;
    if (!includesSecurityLevel(apdu.p1, required)) {
      throw new CardError.SecurityStatus(`security level ${levelHex(apdu.p1)} is below the key set's minimum ${levelHex(required)}`);
    }
    return card.externalAuthenticate(apdu);
  } catch (error) {
    ctx.volatile.scp03 = undefined; // a failed authentication ends the attempt: start over with INITIALIZE UPDATE
    if (error instanceof CardError.SecurityStatus) throw error;
    refusal(error);
  }
}

export const SECURE_CHANNEL_COMMANDS: CommandHandler[] = [
  {
    name: 'ISD-R INITIALIZE UPDATE (SCP03)',
    spec: 'GP CS v2.3 Amd D §7.1.1',
    app: 'isd-r',
    secured: false,
    matches: (apdu) => isCommand(apdu, 0x80, 0x50),
    handle: initializeUpdate,
  },
  {
    name: 'ISD-R EXTERNAL AUTHENTICATE (SCP03)',
    spec: 'GP CS v2.3 Amd D §7.1.2; minimum security level per key set (Amd D §5.1 levels)',
    app: 'isd-r',
    secured: false,
    matches: (apdu) => isCommand(apdu, 0x80, 0x82),
    handle: externalAuthenticate,
  },
];
