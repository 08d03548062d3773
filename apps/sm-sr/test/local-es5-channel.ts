/**
 * ES5 to cards in this process (a simulator {@link CardPool}): the same scripts and SCP03 session as over
 * MQTT, without a broker. Test-only (it carries test hooks: offline cards, script tampering), so it lives
 * with the SM-SR's tests: the service itself never reaches the simulator (eslint.config.js).
 */
import { executeScript } from '@rsp/card';
import type { CardPool } from '../../../simulator/src/card-host';
import { Es5Error } from '../src/es5/errors';
import { ScriptEs5Channel, type IsdRKeyProvider, type ScriptCarrier } from '../src/es5/script-es5-channel';

export class LocalScriptCarrier implements ScriptCarrier {
  /** EIDs taken offline by a test: their exchanges wait until the deadline, like an unreachable device. */
  readonly offline = new Set<string>();
  /** Test hook: rewrites a command script before the card sees it (e.g. to tamper with a segment). */
  tamper?: (eid: string, script: Buffer) => Buffer;

  constructor(private readonly pool: CardPool) {}

  async exchange(eid: string, script: Buffer, deadline: number): Promise<Buffer> {
    if (this.offline.has(eid) || !this.pool.has(eid)) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())));
      throw new Es5Error.Timeout(`no answer from ${eid} before the deadline`);
    }
    const sent = this.tamper ? this.tamper(eid, script) : script;
    try {
      return this.pool.withCard(eid, (card) => executeScript(card, sent));
    } catch (cause) {
      throw new Es5Error.CardError(`the card ${eid} reported an error`, { cause });
    }
  }

  async close(): Promise<void> {}
}

export class LocalEs5Channel extends ScriptEs5Channel {
  readonly carrier: LocalScriptCarrier;

  constructor(pool: CardPool, keys: IsdRKeyProvider, options: { defaultTimeoutMs?: number } = {}) {
    const carrier = new LocalScriptCarrier(pool);
    super({ carrier, keys, ...options });
    this.carrier = carrier;
  }
}
