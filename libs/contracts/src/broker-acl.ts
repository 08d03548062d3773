/**
 * Who may publish and subscribe to what on the broker: ONE table for both brokers. The embedded aedes
 * broker evaluates it in its `authorizePublish` / `authorizeSubscribe` hooks; the Mosquitto ACL file is
 * rendered from it ({@link renderMosquittoAcl}); docs/topics.md prints it; a test runs the same matrix
 * against both brokers (test/e2e/broker-acl.spec.ts).
 *
 * Identities (docs/security.md): every connection proves one with a TLS client certificate; its CN is the
 * principal name and the MQTT client id. Principals listed in the deployment ({@link BrokerPrincipal}: the
 * services, MNOs, fleet gateways, monitors) get the rules of their role, with `{self}` = the topic level of
 * their service id. Every connection also gets the `device` rules with `{self}` = its own CN: for a card
 * (CN = EID) that is its own topic tree; for anyone else those topics are never used. These two kinds are
 * exactly Mosquitto's `user … topic …` and `pattern …` lines, so both brokers decide alike.
 */
import { ContractError } from './errors';
import { ID_PATTERN, TOPIC_ROOT, topicLevel, topicLevelsMatch } from './topics';

export const BROKER_ROLES = ['sm-sr', 'sm-dp', 'owner-registry', 'mno', 'gateway', 'monitor'] as const;
export type BrokerRole = (typeof BROKER_ROLES)[number];

/** A listed broker identity: certificate CN `name`, acting for `serviceId` (an SM-SR's instances share one). */
export interface BrokerPrincipal {
  name: string;
  role: BrokerRole;
  serviceId: string;
}

export type BrokerAccess = 'publish' | 'subscribe';

export interface BrokerAclRule {
  /** A role, or `device`: every connection, with `{self}` = its own CN (Mosquitto `pattern` + `%u`). */
  who: BrokerRole | 'device';
  access: BrokerAccess;
  /** Topic filter; `{self}` is replaced as described above. */
  topic: string;
  why: string;
}

const R = TOPIC_ROOT;

/** The rules. Anything not granted here is refused. */
export const BROKER_ACL: readonly BrokerAclRule[] = [
  // Cards: their own tree only.
  { who: 'device', access: 'subscribe', topic: `${R}/euicc/{self}/es5/cmd`, why: 'a card reads only its own ES5 commands' },
  { who: 'device', access: 'publish', topic: `${R}/euicc/{self}/es5/reply/+/+`, why: 'a card answers under its own tree, to a named SM-SR instance' },
  { who: 'device', access: 'publish', topic: `${R}/euicc/{self}/es5/notify`, why: 'a card sends its own notifications' },
  { who: 'device', access: 'publish', topic: `${R}/euicc/{self}/presence`, why: 'a card announces its own presence (retained, last will)' },
  // Fleet gateways: the device side of every card they serve (one connection for many cards).
  { who: 'gateway', access: 'subscribe', topic: `${R}/euicc/+/es5/cmd`, why: 'a gateway relays the commands of the cards behind it' },
  { who: 'gateway', access: 'publish', topic: `${R}/euicc/+/es5/reply/+/+`, why: 'a gateway relays its cards\u2019 answers' },
  { who: 'gateway', access: 'publish', topic: `${R}/euicc/+/es5/notify`, why: 'a gateway relays its cards\u2019 notifications' },
  { who: 'gateway', access: 'publish', topic: `${R}/euicc/+/presence`, why: 'a gateway announces its cards' },
  { who: 'gateway', access: 'publish', topic: `${R}/gateway/{self}/presence`, why: 'a gateway announces itself (last will)' },
  // SM-SR: ES5 to the cards, ES3 server, notification callbacks to SM-DPs, ES4 notifications to MNOs.
  { who: 'sm-sr', access: 'publish', topic: `${R}/euicc/+/es5/cmd`, why: 'only an SM-SR sends ES5 commands' },
  { who: 'sm-sr', access: 'subscribe', topic: `${R}/euicc/+/es5/reply/{self}/+`, why: 'an SM-SR reads the card answers addressed to it' },
  { who: 'sm-sr', access: 'subscribe', topic: `${R}/euicc/+/es5/notify`, why: 'an SM-SR takes card notifications' },
  { who: 'sm-sr', access: 'subscribe', topic: `${R}/euicc/+/presence`, why: 'an SM-SR follows card presence' },
  { who: 'sm-sr', access: 'subscribe', topic: `${R}/gateway/+/presence`, why: 'an SM-SR follows gateway presence' },
  { who: 'sm-sr', access: 'subscribe', topic: `${R}/svc/+/smsr/{self}/es3/+`, why: 'an SM-SR serves the ES3 requests addressed to it' },
  { who: 'sm-sr', access: 'publish', topic: `${R}/reply/+/+`, why: 'an SM-SR answers ES3 requests (to the caller\u2019s tree, checked by the server)' },
  { who: 'sm-sr', access: 'publish', topic: `${R}/svc/{self}/smdp/+/es3/+`, why: 'an SM-SR calls back SM-DPs, under its own name' },
  { who: 'sm-sr', access: 'subscribe', topic: `${R}/reply/{self}/+`, why: 'an SM-SR reads the answers to its own calls' },
  { who: 'sm-sr', access: 'publish', topic: `${R}/mno/+/es4/notify`, why: 'an SM-SR notifies MNOs (ES4)' },
  { who: 'sm-sr', access: 'subscribe', topic: `${R}/owner/device/+/status`, why: 'an SM-SR reads signed owner statuses' },
  // SM-DP: ES3 client, callback server, ES2 notifications to MNOs.
  { who: 'sm-dp', access: 'publish', topic: `${R}/svc/{self}/smsr/+/es3/+`, why: 'only SM-DPs send ES3 requests, under their own name' },
  { who: 'sm-dp', access: 'subscribe', topic: `${R}/reply/{self}/+`, why: 'an SM-DP reads the answers to its own calls' },
  { who: 'sm-dp', access: 'subscribe', topic: `${R}/svc/+/smdp/{self}/es3/+`, why: 'an SM-DP serves the callbacks addressed to it' },
  { who: 'sm-dp', access: 'publish', topic: `${R}/reply/+/+`, why: 'an SM-DP answers callbacks (to the caller\u2019s tree, checked by the server)' },
  { who: 'sm-dp', access: 'publish', topic: `${R}/mno/+/es2/notify`, why: 'an SM-DP notifies MNOs (ES2)' },
  { who: 'sm-dp', access: 'subscribe', topic: `${R}/owner/device/+/status`, why: 'an SM-DP reads signed owner statuses' },
  // Owner registry: the only publisher of owner statuses.
  { who: 'owner-registry', access: 'publish', topic: `${R}/owner/device/+/status`, why: 'only the registry publishes owner statuses (signed, retained)' },
  { who: 'owner-registry', access: 'publish', topic: `${R}/owner/account/+/notify`, why: 'the registry notifies owners' },
  // MNOs (operator tools) read their own notifications.
  { who: 'mno', access: 'subscribe', topic: `${R}/mno/{self}/+/notify`, why: 'an MNO reads only its own notifications' },
  // Monitors (audit, tests): read everything under the root, publish nothing.
  { who: 'monitor', access: 'subscribe', topic: `${R}/#`, why: 'an auditor reads the bus, never writes' },
];

/** Throws ContractError.InvalidParameter unless the principal is well formed. */
export function assertBrokerPrincipal(principal: BrokerPrincipal): void {
  if (!ID_PATTERN.test(principal.name)) throw new ContractError.InvalidParameter('principal.name', 'letters, digits, _ . : - (1..128)');
  if (!(BROKER_ROLES as readonly string[]).includes(principal.role)) throw new ContractError.InvalidParameter('principal.role', BROKER_ROLES.join(' | '));
  topicLevel(principal.serviceId, 'principal.serviceId');
}

/** The filters (with `{self}` resolved) a connection named `name` holds for `access`. */
export function grantedFilters(name: string, principal: BrokerPrincipal | undefined, access: BrokerAccess): string[] {
  const filters: string[] = [];
  for (const rule of BROKER_ACL) {
    if (rule.access !== access) continue;
    if (rule.who === 'device') {
      // Mosquitto substitutes the raw username; a name outside the level alphabet can match no real topic.
      filters.push(rule.topic.replace('{self}', name));
    } else if (principal && rule.who === principal.role) {
      filters.push(rule.topic.replace('{self}', topicLevel(principal.serviceId)));
    }
  }
  return filters;
}

/** The topic filter inside a shared subscription `$share/{group}/{filter}`, else the filter itself. */
export function unshareFilter(filter: string): string {
  const match = /^\$share\/[^/]+\/(.+)$/.exec(filter);
  return match ? (match[1] as string) : filter;
}

/**
 * One connection's grants, resolved once: its name and principal do not change while it is connected,
 * and a broker asks on every PUBLISH. Resolving the table per message (placeholders, level checks,
 * splitting each filter) was a tenth of the embedded broker's CPU (bench -- provisioning, round eight).
 */
export interface ConnectionGrants {
  /** May this connection publish on `topic` (a topic name: wildcards are refused)? */
  mayPublish(topic: string): boolean;
  /** May it subscribe to `filter`: is every topic the filter can match granted? (`$share/{group}/` is looked through.) */
  maySubscribe(filter: string): boolean;
}

export function connectionGrants(name: string, principal: BrokerPrincipal | undefined): ConnectionGrants {
  const split = (access: BrokerAccess) => grantedFilters(name, principal, access).map((filter) => filter.split('/'));
  const publish = split('publish');
  const subscribe = split('subscribe');
  return {
    mayPublish(topic) {
      if (topic.includes('+') || topic.includes('#')) return false;
      const levels = topic.split('/');
      return publish.some((filter) => topicLevelsMatch(filter, levels));
    },
    maySubscribe(filter) {
      const levels = unshareFilter(filter).split('/');
      return subscribe.some((granted) => topicLevelsMatch(granted, levels));
    },
  };
}

/** May `name` (listed as `principal`, if at all) publish on `topic`? */
export function mayPublish(name: string, principal: BrokerPrincipal | undefined, topic: string): boolean {
  return connectionGrants(name, principal).mayPublish(topic);
}

/** May `name` subscribe to `filter`: is every topic it can match granted? (`$share/{group}/` is looked through.) */
export function maySubscribe(name: string, principal: BrokerPrincipal | undefined, filter: string): boolean {
  return connectionGrants(name, principal).maySubscribe(filter);
}

/**
 * The Mosquitto `acl_file` for these principals: `pattern` lines for the device rules (`%u` = the username,
 * which `use_identity_as_username` makes the certificate CN) and a `user` section per listed principal.
 * Mosquitto's `write` is publish and `read` is receive: it checks reads when delivering, not at SUBSCRIBE.
 */
export function renderMosquittoAcl(principals: readonly BrokerPrincipal[]): string {
  const lines = ['# Generated from libs/contracts/src/broker-acl.ts (npm run mosquitto:config). Do not edit: regenerate.', ''];
  const access = (rule: BrokerAclRule) => (rule.access === 'publish' ? 'write' : 'read');
  lines.push('# Every connection: its own card tree (%u = certificate CN = EID for a card).');
  for (const rule of BROKER_ACL.filter((r) => r.who === 'device')) lines.push(`pattern ${access(rule)} ${rule.topic.replace('{self}', '%u')}`);
  for (const principal of principals) {
    assertBrokerPrincipal(principal);
    lines.push('', `# ${principal.role} ${principal.serviceId}`, `user ${principal.name}`);
    for (const rule of BROKER_ACL.filter((r) => r.who === principal.role)) {
      lines.push(`topic ${access(rule)} ${rule.topic.replace('{self}', topicLevel(principal.serviceId))}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The table as markdown rows (docs/topics.md embeds it; a test keeps the two equal). */
export function brokerAclMarkdown(): string {
  const rows = ['| who | may | topic filter | why |', '|---|---|---|---|'];
  for (const rule of BROKER_ACL) rows.push(`| ${rule.who} | ${rule.access} | \`${rule.topic}\` | ${rule.why} |`);
  return rows.join('\n');
}
