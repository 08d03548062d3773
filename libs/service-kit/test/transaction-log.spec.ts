/**
 * The transaction log (libs/service-kit transaction-log.ts): an MNO's own calls, and the calls another
 * service makes on its behalf (an SM-DP's ES3 calls at the SM-SR), each with the downstream calls made
 * while it ran; kept per interface, so a busy one never pushes out the MNO's own calls.
 */
import { describe, expect, it } from '@jest/globals';
import { TransactionLog } from '../src/transaction-log';

const EID = '89049032123451234512345678901235';
const ok = { response: { header: { functionExecutionStatus: { status: 'Executed-Success' } } } };
const es3Body = (callId: string, eid?: string) => ({ header: { functionRequesterIdentifier: 'smdp.a', functionCallIdentifier: callId }, ...(eid ? { eid } : {}) });

describe('TransactionLog', () => {
  it('records a call on an MNO’s behalf with its real caller and interface, and the card scripts run meanwhile', async () => {
    const log = new TransactionLog({ service: 'SM-SR', iface: 'ES4' });
    await log.aroundOnBehalf({ mnoId: 'mno.x', functionName: 'SendData', from: 'SM-DP', iface: 'ES3', by: 'smdp.a' }, es3Body('es3-1', EID), async () => {
      const done = log.downstream(EID, { step: 'es8.INSTALL + STORE DATA', to: 'eUICC', iface: 'ES8', label: 'INSTALL + STORE DATA' });
      done('9000');
      return ok;
    });
    const call = log.get('mno.x', 'es3-1');
    expect(call).toMatchObject({ interface: 'ES3', functionName: 'SendData', state: 'done', status: 'Executed-Success' });
    expect(call?.hops.map((hop) => `${hop.from}>${hop.to} ${hop.interface} ${hop.kind}`)).toEqual([
      'SM-DP>SM-SR ES3 request',
      'SM-SR>eUICC ES8 request',
      'eUICC>SM-SR ES8 response',
      'SM-SR>SM-DP ES3 response',
    ]);
    expect(log.get('mno.y', 'es3-1')).toBeUndefined(); // another MNO's read
    expect(log.running(EID)).toBe(false);
  });

  it('a call that throws is recorded as an error, and the error still reaches the caller', async () => {
    const log = new TransactionLog({ service: 'SM-SR', iface: 'ES4' });
    const failing = log.aroundOnBehalf({ mnoId: 'mno.x', functionName: 'CreateISDP', from: 'SM-DP', iface: 'ES3', by: 'smdp.a' }, es3Body('es3-2'), () => Promise.reject(new Error('boom')));
    await expect(failing).rejects.toThrow('boom');
    expect(log.get('mno.x', 'es3-2')).toMatchObject({ state: 'done', status: 'error' });
  });

  it('an MNO’s own call that throws ends as an error too, and its follower hears the end', async () => {
    const log = new TransactionLog({ service: 'SM-DP', iface: 'ES2' });
    const heard: unknown[] = [];
    const failing = log.around({ kind: 'proven', id: 'mno.x' }, 'downloadProfile', es3Body('dl-err', EID), async () => {
      log.follow('mno.x', 'dl-err', (event, data) => heard.push([event, data]));
      throw new Error('boom');
    });
    await expect(failing).rejects.toThrow('boom');
    expect(log.get('mno.x', 'dl-err')).toMatchObject({ state: 'done', status: 'error' });
    expect(heard).toEqual([['done', { step: 'done', status: 'error' }]]);
    expect(log.running(EID)).toBe(false); // a later script on the card is not charged to it
  });

  it("a card's scripts are steps of the call holding the card, not of the call on that EID that arrived last", () => {
    const log = new TransactionLog({ service: 'SM-SR', iface: 'ES4' });
    log.start({ callId: 'es4-a', mnoId: 'mno.x', functionName: 'disableProfile', eid: EID }); // holds the card
    log.start({ callId: 'es3-b', mnoId: 'mno.y', functionName: 'CreateISDP', eid: EID, from: 'SM-DP', iface: 'ES3', by: 'smdp.a' }); // queued behind it
    const script = (label: string) => log.downstream(EID, { step: `es5.${label}`, to: 'eUICC', iface: 'ES5', label })('9000');
    log.hold(EID, { by: 'mno.x', callId: 'es4-a' });
    script('SET STATUS');
    log.release(EID);
    log.hold(EID, { by: 'smdp.a', callId: 'es3-b' });
    script('INSTALL');
    log.release(EID);
    log.hold(EID, { by: 'smdp.a', callId: 'get-eis-1' }); // a call not recorded (an audit): its scripts are no one's
    script('GET STATUS');
    expect(log.running(EID)).toBe(false);
    log.release(EID);
    log.hold(EID, undefined); // the card's own notification: the call running for the EID, as before
    script('STORE DATA');
    log.release(EID);
    expect(log.get('mno.x', 'es4-a')?.steps.map((step) => step.step)).toEqual(['es5.SET STATUS']);
    expect(log.get('mno.y', 'es3-b')?.steps.map((step) => step.step)).toEqual(['es5.INSTALL', 'es5.STORE DATA']);
  });

  it('a downstream call carries the id its callee records it under', () => {
    const log = new TransactionLog({ service: 'SM-DP', iface: 'ES2' });
    log.start({ callId: 'dl-1', mnoId: 'mno.x', functionName: 'downloadProfile', eid: EID });
    log.downstream(EID, { step: 'es3.CreateISDP', to: 'SM-SR', iface: 'ES3', label: 'CreateISDP', correlationId: 'es3-9' })('Executed-Success');
    expect(log.get('mno.x', 'dl-1')?.hops.slice(1).map((hop) => hop.correlationId)).toEqual(['es3-9', 'es3-9']);
  });

  it('lists the service’s own interface unless asked, and keeps 2000 of each: ES3 calls never push out the MNO’s own', async () => {
    const log = new TransactionLog({ service: 'SM-SR', iface: 'ES4' });
    log.start({ callId: 'es4-1', mnoId: 'mno.x', functionName: 'disableProfile', eid: EID });
    for (let i = 0; i < 2100; i += 1) await log.aroundOnBehalf({ mnoId: 'mno.x', functionName: 'SendData', from: 'SM-DP', iface: 'ES3', by: 'smdp.a' }, es3Body(`es3-${i}`), async () => ok);
    expect(log.get('mno.x', 'es4-1')).toBeDefined();
    expect(log.get('mno.x', 'es3-0')).toBeUndefined(); // the oldest ES3 calls went
    expect(log.get('mno.x', 'es3-2099')).toBeDefined();
    expect(log.list('mno.x').map((t) => t.functionCallIdentifier)).toEqual(['es4-1']);
    expect(log.list('mno.x', { interface: 'ES3', limit: 2 }).map((t) => t.functionCallIdentifier)).toEqual(['es3-2099', 'es3-2098']);
  });
});
