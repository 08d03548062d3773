import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTestPki } from '@rsp/pki';
import { enabledIsdp, FileCardStore, ISDP_LIFE_CYCLE, manufactureFromTestPki, pendingNotifications, VirtualEuicc } from '../src';
import { defaultIsdRKeySet, isdpAid } from '@rsp/offcard';
import { openIsdR } from './support/es5';
import { confirmNotificationApdu, createIsdpApdu, enableApdu, installedIsdp, TEST_SET_1 } from './support/isd-r-commands';

const pki = generateTestPki({ curve: 'P-256', euiccCount: 1 });
const EID = pki.euiccs[0]!.eid;
const KEYS = defaultIsdRKeySet(EID);
const directory = mkdtempSync(join(tmpdir(), 'card-isdr-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function manufacture(store: FileCardStore): VirtualEuicc {
  const state = manufactureFromTestPki(pki, 0, {
    bootstrapProfile: { iccid: '8944000000000000009', imsi: '001010000000009', ki: Buffer.from(TEST_SET_1.k, 'hex'), opc: Buffer.from(TEST_SET_1.opc, 'hex') },
  });
  state.isdps.push(installedIsdp(isdpAid(2)));
  return VirtualEuicc.manufacture(state, { store });
}

describe('persistence across power cycles (FileCardStore)', () => {
  it('keeps profiles, the SCP03 counter and pending notifications; confirmed ones stay gone', () => {
    const store = new FileCardStore(directory);
    const euicc = manufacture(store);
    expect(statSync(store.path(EID)).mode & 0o777).toBe(0o600);
    let session = openIsdR(euicc, KEYS);
    expect(session.send(createIsdpApdu(isdpAid(3))).sw).toBe(0x9000);
    expect(session.send(enableApdu(isdpAid(2))).sw).toBe(0x9000);

    // Power cycle: a brand-new card object booted from the file.
    const rebooted = VirtualEuicc.load(EID, { store: new FileCardStore(directory) });
    const state = rebooted.snapshot();
    expect(enabledIsdp(state)?.aid).toBe(isdpAid(2));
    expect(state.isdps.find((i) => i.aid === isdpAid(3))?.lifeCycle).toBe(ISDP_LIFE_CYCLE.SELECTABLE);
    expect(state.isdR.sequenceCounter).toBe(1);
    expect(pendingNotifications(state).map((n) => [n.seq, n.type])).toEqual([
      [1, 1],
      [2, 2],
    ]);

    // The counter continues (no challenge reuse) and the old session is gone.
    expect(rebooted.transmit(session.wrap(createIsdpApdu(isdpAid(4))))).toEqual(Buffer.of(0x69, 0x82));
    session = openIsdR(rebooted, KEYS);
    expect(rebooted.snapshot().isdR.sequenceCounter).toBe(2);
    expect(session.send(confirmNotificationApdu(1)).sw).toBe(0x9000);

    rebooted.powerCycle();
    const again = VirtualEuicc.load(EID, { store: new FileCardStore(directory) }).snapshot();
    expect(pendingNotifications(again).map((n) => n.seq)).toEqual([2]);
    expect(again.notifications.nextSeq).toBe(3);
    expect(again.isdR.sequenceCounter).toBe(2);
  });

  it('a refused command writes nothing', () => {
    const store = new FileCardStore(join(directory, 'b'));
    const euicc = manufacture(store);
    const session = openIsdR(euicc, KEYS);
    const before = store.load(EID);
    expect(session.send(enableApdu(isdpAid(1))).sw).toBe(0x6985);
    expect(store.load(EID)).toEqual(before);
  });
});
