/**
 * Whose step a card script is (apps/sm-sr/src/adapters/traced-es5-channel.ts `cardTurnsOf`, the card lock
 * of domain/card-gateway.ts): two MNOs' calls queued on one card, the second arriving while the first holds
 * it. Each MNO's record must show its own scripts and none of the other's, whichever arrived last.
 */
import { describe, expect, it } from '@jest/globals';
import { TransactionLog } from '@rsp/service-kit';
import type { CommandApdu, ResponseApdu } from '@rsp/tlv';
import { cardTurnsOf, tracedEs5Channel } from '../src/adapters/traced-es5-channel';
import { CardGateway } from '../src/domain/card-gateway';
import type { Es5Channel } from '../src/es5/index';

const EID = '89049032123451234512345678901235';
const apdu = (ins: number): CommandApdu => ({ cla: 0x80, ins, p1: 0, p2: 0, data: Buffer.alloc(0) });
const SET_STATUS = apdu(0xf0);
const INSTALL = apdu(0xe6);

/** A card that answers every command 9000. */
const card: Es5Channel = { run: async (_eid, commands): Promise<ResponseApdu[]> => commands.map(() => ({ data: Buffer.alloc(0), sw: 0x9000 })), close: async () => undefined };

describe('card turns: a script is a step of the call holding the card', () => {
  it('an ES4 call holding the card keeps its script when an SM-DP’s ES3 call for another MNO arrives behind it; the ES3 call gets its own', async () => {
    const log = new TransactionLog({ service: 'SM-SR', iface: 'ES4' });
    const cards = new CardGateway(tracedEs5Channel(card, log), undefined, undefined, cardTurnsOf(log));
    let readRegistry = (): void => undefined;
    const registryRead = new Promise<void>((resolve) => (readRegistry = resolve));

    log.start({ callId: 'es4-a', mnoId: 'mno.x', functionName: 'disableProfile', eid: EID });
    const first = cards.exclusive(
      EID,
      async () => {
        await registryRead; // mno.x's call holds the card, reading the registry before its script
        return cards.raw(EID, [SET_STATUS]);
      },
      { requester: 'mno.x', functionCallIdentifier: 'es4-a' },
    );
    log.start({ callId: 'es3-b', mnoId: 'mno.y', functionName: 'CreateISDP', eid: EID, from: 'SM-DP', iface: 'ES3', by: 'smdp.a' }); // the last to arrive
    const second = cards.exclusive(EID, () => cards.raw(EID, [INSTALL]), { requester: 'smdp.a', functionCallIdentifier: 'es3-b' });
    readRegistry();
    await Promise.all([first, second]);

    expect(log.get('mno.x', 'es4-a')?.steps.map((step) => `${step.step} ${step.status}`)).toEqual(['es5.SET STATUS 9000']);
    expect(log.get('mno.y', 'es3-b')?.steps.map((step) => `${step.step} ${step.status}`)).toEqual(['es5.INSTALL 9000']);
  });

  it('a call that is not recorded (an audit) holds the card: its scripts are no one’s, not the running call’s', async () => {
    const log = new TransactionLog({ service: 'SM-SR', iface: 'ES4' });
    const cards = new CardGateway(tracedEs5Channel(card, log), undefined, undefined, cardTurnsOf(log));
    log.start({ callId: 'es4-a', mnoId: 'mno.x', functionName: 'enableProfile', eid: EID }); // waiting for the card, say
    await cards.exclusive(EID, () => cards.raw(EID, [apdu(0xf2)]), { requester: 'smdp.a', functionCallIdentifier: 'audit-1' });
    expect(log.get('mno.x', 'es4-a')?.steps).toEqual([]);
    await cards.exclusive(EID, () => cards.raw(EID, [SET_STATUS]), { requester: 'mno.x', functionCallIdentifier: 'es4-a' });
    expect(log.get('mno.x', 'es4-a')?.steps.map((step) => step.step)).toEqual(['es5.SET STATUS']);
  });
});
