import { describe, expect, it } from '@jest/globals';
import { generateTestPki } from '@rsp/pki';
import { decodeSingleTlv } from '@rsp/tlv';
import { MemoryCardStore, VirtualEuicc, manufactureFromTestPki, type CardState } from '../src';
import { AID, CardError, defaultIsdRKeySet, PowerLoss } from '@rsp/offcard';
import { RspError } from '@rsp/errors';
import type { CommandHandler } from '../src/context';
import { BOOTSTRAP } from './support/card';
import { openIsdR, transmit } from './support/es5';
import { USIM_AID_PREFIX } from '../src/handlers/select';

const pki = generateTestPki({ curve: 'P-256', euiccCount: 1 });

/** A store that counts writes. */
class CountingStore extends MemoryCardStore {
  saves = 0;
  override save(state: CardState): void {
    this.saves += 1;
    super.save(state);
  }
}

function card(): { euicc: VirtualEuicc; store: CountingStore } {
  const store = new CountingStore();
  const euicc = VirtualEuicc.manufacture(manufactureFromTestPki(pki, 0, { bootstrapProfile: BOOTSTRAP }), { store });
  return { euicc, store };
}

describe('dispatcher commit step', () => {
  it('saves only commands that changed the state', () => {
    const { euicc, store } = card();
    const afterManufacture = store.saves;
    expect(transmit(euicc, { cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: Buffer.from(AID.ECASD, 'hex') }).sw).toBe(0x9000);
    expect(transmit(euicc, { cla: 0x80, ins: 0xca, p1: 0x00, p2: 0x5a, data: Buffer.alloc(0), le: 256 }).sw).toBe(0x9000);
    expect(store.saves).toBe(afterManufacture); // SELECT and GET DATA write nothing
    openIsdR(euicc, defaultIsdRKeySet(euicc.eid)); // INITIALIZE UPDATE moves the persisted sequence counter
    expect(store.saves).toBe(afterManufacture + 1);
  });
});

describe('dispatcher: state changed in place, rolled back on failure', () => {
  class BadTlv extends RspError {
    static override readonly code = 'ERR_TEST_BAD_TLV';
  }
  /** INS 0x01..0x05: change the IMEI, then end as P1 says. */
  const endings: Record<number, () => void> = {
    1: () => undefined, // success: committed
    2: () => {
      throw new CardError.ConditionsNotSatisfied('refused after the change');
    },
    3: () => {
      throw new BadTlv('typed error after the change');
    },
    4: () => {
      throw new TypeError('a bug after the change');
    },
  };
  const changeThenEnd: CommandHandler = {
    name: 'TEST change then end',
    spec: 'test',
    app: 'any',
    secured: false,
    matches: (apdu) => apdu.cla === 0x80 && apdu.ins === 0x01,
    handle(ctx, apdu) {
      ctx.state.imei = apdu.data.toString('hex');
      if (apdu.p1 === 5) ctx.step('after-change');
      endings[apdu.p1]?.();
      return { data: Buffer.alloc(0), sw: 0x9000 };
    },
  };
  const command = (p1: number, imei: string) => ({ cla: 0x80, ins: 0x01, p1, p2: 0x00, data: Buffer.from(imei, 'hex') });

  function testCard(options: { failSave?: boolean } = {}) {
    const store = new CountingStore();
    const faults = { powerLossAt: (step: string) => step === 'after-change' };
    const euicc = VirtualEuicc.manufacture(manufactureFromTestPki(pki, 0, { bootstrapProfile: BOOTSTRAP }), {
      store,
      faults,
      commands: [changeThenEnd],
    });
    if (options.failSave) {
      store.save = () => {
        throw new Error('disk full');
      };
    }
    return { euicc, store };
  }

  it('commits a change and keeps the live state and the store equal', () => {
    const { euicc, store } = testCard();
    expect(transmit(euicc, command(1, '3531234567890120')).sw).toBe(0x9000);
    expect(euicc.snapshot().imei).toBe('3531234567890120');
    expect(store.load(euicc.eid)?.imei).toBe('3531234567890120');
  });

  it.each([
    ['a CardFailure', 2, 0x6985],
    ['a typed error', 3, 0x6a80],
  ])('rolls a change back when the command then ends with %s (P1 %i)', (_what, p1, sw) => {
    const { euicc, store } = testCard();
    transmit(euicc, command(1, '3531234567890120'));
    const saves = store.saves;
    expect(transmit(euicc, command(p1, '0000000000000000')).sw).toBe(sw);
    expect(euicc.snapshot().imei).toBe('3531234567890120');
    expect(store.saves).toBe(saves);
    // The card goes on from the committed state: the next change is saved whole.
    transmit(euicc, command(1, '1111111111111111'));
    expect(store.load(euicc.eid)?.imei).toBe('1111111111111111');
  });

  it('rolls a change back when the handler crashes (an untyped error is rethrown)', () => {
    const { euicc } = testCard();
    transmit(euicc, command(1, '3531234567890120'));
    expect(() => transmit(euicc, command(4, '0000000000000000'))).toThrow(TypeError);
    expect(euicc.snapshot().imei).toBe('3531234567890120');
  });

  it('reboots to the stored state on a power loss after the change', () => {
    const { euicc } = testCard();
    transmit(euicc, command(1, '3531234567890120'));
    expect(() => transmit(euicc, command(5, '0000000000000000'))).toThrow(PowerLoss);
    expect(euicc.snapshot().imei).toBe('3531234567890120');
  });

  it('keeps the last committed state when the store cannot save', () => {
    const { euicc } = testCard({ failSave: true });
    expect(() => transmit(euicc, command(1, '3531234567890120'))).toThrow('disk full');
    expect(euicc.snapshot().imei).toBeUndefined();
  });
});

describe('pending notifications', () => {
  it('are read as copies: the manufactured eUICC declaration, equal to the snapshot’s, untouched by edits', () => {
    const { euicc } = card();
    const pending = euicc.pendingNotifications();
    expect(pending).toEqual(euicc.snapshot().notifications.pending);
    expect(pending).toHaveLength(1);
    (pending[0] as { attempts: number }).attempts = 99;
    expect(euicc.pendingNotifications()[0]?.attempts).not.toBe(99);
  });
});

describe('SELECT', () => {
  it('answers the FCP template (62) when a UICC terminal asks with P2 04 (TS 102 221 §11.1.1)', () => {
    const { euicc } = card();
    const response = transmit(euicc, { cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x04, data: Buffer.from(USIM_AID_PREFIX, 'hex'), le: 256 });
    expect(response.sw).toBe(0x9000);
    expect(decodeSingleTlv(response.data).tag).toBe(0x62);
  });
});
