import { describe, expect, it } from '@jest/globals';
import { generateTestPki } from '@rsp/pki';
import { decodeSingleTlv } from '@rsp/tlv';
import { MemoryCardStore, VirtualEuicc, manufactureFromTestPki, type CardState } from '../src';
import { AID, defaultIsdRKeySet } from '@rsp/offcard';
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

describe('SELECT', () => {
  it('answers the FCP template (62) when a UICC terminal asks with P2 04 (TS 102 221 §11.1.1)', () => {
    const { euicc } = card();
    const response = transmit(euicc, { cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x04, data: Buffer.from(USIM_AID_PREFIX, 'hex'), le: 256 });
    expect(response.sw).toBe(0x9000);
    expect(decodeSingleTlv(response.data).tag).toBe(0x62);
  });
});
