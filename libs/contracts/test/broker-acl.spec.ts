import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { DEMO_EID_FIRST_SERIAL, DEMO_EID_PREFIX, generateEid } from '@rsp/pki';
import {
  BROKER_ACL,
  brokerAclMarkdown,
  es3CallbackPattern,
  es3Pattern,
  es5CommandTopic,
  es5NotifyTopic,
  es5ReplyFilter,
  es5ReplyTopic,
  mayPublish,
  maySubscribe,
  mnoNotifyTopic,
  presenceTopic,
  renderMosquittoAcl,
  serviceTopic,
  type BrokerPrincipal,
} from '../src';

const CARD = '89049032123451234512345678901235';
const OTHER_CARD = generateEid(DEMO_EID_PREFIX, DEMO_EID_FIRST_SERIAL + 1);
const SMSR: BrokerPrincipal = { name: 'smsr.demo', role: 'sm-sr', serviceId: 'smsr.demo' };
const SMSR_2: BrokerPrincipal = { name: 'smsr.demo-2', role: 'sm-sr', serviceId: 'smsr.demo' };
const SMDP: BrokerPrincipal = { name: 'smdp.demo', role: 'sm-dp', serviceId: 'smdp.demo' };
const OTHER_SMDP: BrokerPrincipal = { name: 'smdp.other', role: 'sm-dp', serviceId: 'smdp.other' };
const REGISTRY: BrokerPrincipal = { name: 'registry.demo', role: 'owner-registry', serviceId: 'registry.demo' };
const MNO: BrokerPrincipal = { name: 'mno.demo', role: 'mno', serviceId: 'mno.demo' };
const GATEWAY: BrokerPrincipal = { name: 'fleet-gw', role: 'gateway', serviceId: 'fleet-gw' };
const MONITOR: BrokerPrincipal = { name: 'auditor', role: 'monitor', serviceId: 'auditor' };

const pub = (who: BrokerPrincipal | string, topic: string) =>
  typeof who === 'string' ? mayPublish(who, undefined, topic) : mayPublish(who.name, who, topic);
const sub = (who: BrokerPrincipal | string, filter: string) =>
  typeof who === 'string' ? maySubscribe(who, undefined, filter) : maySubscribe(who.name, who, filter);

const STATUS = `rsp/v1/owner/device/${CARD}/status`;
const GET_EIS = serviceTopic('smdp.demo', es3Pattern('smsr.demo', 'GetEIS'));

describe('the broker ACL table (docs/topics.md "Who may publish and subscribe")', () => {
  it('a card reads only its own command topic and writes only its own topics', () => {
    expect(sub(CARD, es5CommandTopic(CARD))).toBe(true);
    expect(sub(CARD, es5CommandTopic(OTHER_CARD))).toBe(false);
    expect(sub(CARD, 'rsp/v1/euicc/+/es5/cmd')).toBe(false);
    expect(sub(CARD, '#')).toBe(false);
    expect(pub(CARD, es5ReplyTopic(CARD, 'smsr.demo', 'es5-1'))).toBe(true);
    expect(pub(CARD, es5NotifyTopic(CARD))).toBe(true);
    expect(pub(CARD, presenceTopic(CARD))).toBe(true);
    expect(pub(CARD, es5ReplyTopic(OTHER_CARD, 'smsr.demo', 'es5-1'))).toBe(false);
    expect(pub(CARD, es5NotifyTopic(OTHER_CARD))).toBe(false);
    expect(pub(CARD, es5CommandTopic(CARD))).toBe(false); // not even its own commands
  });

  it('only an SM-SR sends ES5 commands and reads the card answers addressed to it', () => {
    expect(pub(SMSR, es5CommandTopic(CARD))).toBe(true);
    for (const who of [SMDP, REGISTRY, MNO, GATEWAY, MONITOR, CARD]) expect(pub(who, es5CommandTopic(OTHER_CARD))).toBe(false);
    expect(sub(SMSR, es5ReplyFilter('smsr.demo', 'es5-1'))).toBe(true);
    expect(sub(SMSR_2, es5ReplyFilter('smsr.demo', 'es5-2'))).toBe(true); // an instance of the same SM-SR
    expect(sub(SMSR, es5ReplyFilter('smsr.other', 'es5-1'))).toBe(false);
  });

  it('only SM-DP identities send ES3 requests, and only under their own name', () => {
    expect(pub(SMDP, GET_EIS)).toBe(true);
    expect(pub(OTHER_SMDP, GET_EIS)).toBe(false); // another SM-DP cannot pose as smdp.demo
    expect(pub(OTHER_SMDP, serviceTopic('smdp.other', es3Pattern('smsr.demo', 'GetEIS')))).toBe(true);
    for (const who of [CARD, SMSR, REGISTRY, MNO, GATEWAY, MONITOR]) expect(pub(who, GET_EIS)).toBe(false);
    expect(pub(CARD, serviceTopic(CARD, es3Pattern('smsr.demo', 'DisableProfile')))).toBe(false);
    expect(sub(SMSR, `rsp/v1/svc/+/${es3Pattern('smsr.demo', 'GetEIS')}`)).toBe(true);
    expect(sub(SMSR, `$share/smsr-g/rsp/v1/svc/+/${es3Pattern('smsr.demo', 'GetEIS')}`)).toBe(true);
    expect(sub(SMDP, `rsp/v1/svc/+/${es3Pattern('smsr.demo', 'GetEIS')}`)).toBe(false);
    // SM-SR → SM-DP callbacks: under the SM-SR's own name.
    expect(pub(SMSR, serviceTopic('smsr.demo', es3CallbackPattern('smdp.demo', 'HandleProfileEnabledNotification')))).toBe(true);
    expect(pub(SMDP, serviceTopic('smsr.demo', es3CallbackPattern('smdp.demo', 'HandleProfileEnabledNotification')))).toBe(false);
  });

  it('replies go only to the requester\u2019s own reply tree', () => {
    expect(sub(SMDP, 'rsp/v1/reply/smdp~demo/req-1')).toBe(true);
    expect(sub(SMDP, 'rsp/v1/reply/smdp~demo/+')).toBe(true);
    expect(sub(OTHER_SMDP, 'rsp/v1/reply/smdp~demo/+')).toBe(false);
    expect(sub(CARD, 'rsp/v1/reply/+/+')).toBe(false);
    expect(pub(CARD, 'rsp/v1/reply/smdp~demo/req-1')).toBe(false);
  });

  it('only the registry publishes owner statuses; the services read them', () => {
    expect(pub(REGISTRY, STATUS)).toBe(true);
    for (const who of [CARD, SMSR, SMDP, MNO, GATEWAY, MONITOR]) expect(pub(who, STATUS)).toBe(false);
    expect(sub(SMSR, 'rsp/v1/owner/device/+/status')).toBe(true);
    expect(sub(SMDP, 'rsp/v1/owner/device/+/status')).toBe(true);
    expect(sub(CARD, 'rsp/v1/owner/device/+/status')).toBe(false);
  });

  it('an MNO reads its own notifications only; a monitor reads everything and writes nothing', () => {
    expect(sub(MNO, mnoNotifyTopic('mno.demo', 'es2'))).toBe(true);
    expect(sub(MNO, 'rsp/v1/mno/mno~demo/+/notify')).toBe(true);
    expect(sub(MNO, mnoNotifyTopic('mno.other', 'es2'))).toBe(false);
    expect(pub(SMDP, mnoNotifyTopic('mno.demo', 'es2'))).toBe(true);
    expect(pub(SMDP, mnoNotifyTopic('mno.demo', 'es4'))).toBe(false);
    expect(sub(MONITOR, 'rsp/v1/#')).toBe(true);
    expect(sub(MONITOR, '#')).toBe(false); // $SYS and foreign trees stay closed
    expect(BROKER_ACL.filter((rule) => rule.who === 'monitor' && rule.access === 'publish')).toEqual([]);
  });

  it('a gateway is the device side of every card it serves, and nothing more', () => {
    expect(sub(GATEWAY, 'rsp/v1/euicc/+/es5/cmd')).toBe(true);
    expect(pub(GATEWAY, es5ReplyTopic(CARD, 'smsr.demo', 'es5-1'))).toBe(true);
    expect(pub(GATEWAY, es5CommandTopic(CARD))).toBe(false);
    expect(pub(GATEWAY, GET_EIS)).toBe(false);
  });

  it('publishing on a wildcard topic is never allowed', () => {
    expect(pub(SMSR, 'rsp/v1/euicc/+/es5/cmd')).toBe(false);
    expect(pub(MONITOR, 'rsp/v1/#')).toBe(false);
  });

  it('renders the Mosquitto ACL: patterns for every connection, a user section per listed principal', () => {
    const acl = renderMosquittoAcl([SMSR, SMDP, MNO]);
    expect(acl).toContain('pattern read rsp/v1/euicc/%u/es5/cmd');
    expect(acl).toContain('pattern write rsp/v1/euicc/%u/es5/reply/+/+');
    expect(acl).toContain('user smsr.demo\ntopic write rsp/v1/euicc/+/es5/cmd');
    expect(acl).toContain('topic read rsp/v1/svc/+/smsr/smsr~demo/es3/+');
    expect(acl).toContain('user smdp.demo\ntopic write rsp/v1/svc/smdp~demo/smsr/+/es3/+');
    expect(acl).toContain('user mno.demo\ntopic read rsp/v1/mno/mno~demo/+/notify');
    expect(() => renderMosquittoAcl([{ name: 'a b', role: 'mno', serviceId: 'x' }])).toThrow();
    expect(() => renderMosquittoAcl([{ name: 'x', role: 'root' as never, serviceId: 'x' }])).toThrow();
  });

  it('docs/topics.md prints this very table', () => {
    const doc = readFileSync(new URL('../../../docs/topics.md', import.meta.url), 'utf8');
    expect(doc).toContain(brokerAclMarkdown());
  });
});
