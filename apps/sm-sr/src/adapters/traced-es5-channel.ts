/**
 * The ES5 channel as the transaction log sees it: each script the SM-SR runs on a card becomes a step (and
 * a request / response hop pair SM-SR ⇄ eUICC) of the MNO's ES4 call running for that EID, labelled with
 * the commands it carries (GP CS §11 instruction names) and answered with the last status word. A script
 * with INSTALL [for personalization] carries an SM-DP's ES8 commands (SendData), the rest is ES5. A
 * decorator over the port: the domain knows nothing of it, and nothing but names and status words is kept.
 * Which call a script belongs to is the one holding the card's lock ({@link cardTurnsOf}), so that two
 * MNOs' calls queued on one card never see each other's scripts.
 */
import { isRspError } from '@rsp/errors';
import type { TransactionLog } from '@rsp/service-kit';
import type { CommandApdu, ResponseApdu } from '@rsp/tlv';
import type { CardTurns } from '../domain/card-gateway';
import type { Es5Channel, Es5RunOptions } from '../es5/index';

/** GP Card Specification §11 instructions the ISD-R / ISD-P receive over ES5 and ES8. */
const INSTRUCTION: Readonly<Record<number, string>> = {
  0xa4: 'SELECT', 0xca: 'GET DATA', 0xcb: 'GET DATA', 0xd8: 'PUT KEY', 0xe2: 'STORE DATA', 0xe4: 'DELETE', 0xe6: 'INSTALL', 0xf0: 'SET STATUS', 0xf2: 'GET STATUS',
};
const INSTALL_FOR_PERSONALIZATION = 0x20;

export function scriptSummary(commands: readonly CommandApdu[]): { label: string; iface: 'ES5' | 'ES8' } {
  const names = [...new Set(commands.map((command) => INSTRUCTION[command.ins] ?? `INS ${command.ins.toString(16).toUpperCase().padStart(2, '0')}`))];
  const es8 = commands.some((command) => command.ins === 0xe6 && command.p1 === INSTALL_FOR_PERSONALIZATION);
  return { label: names.join(' + '), iface: es8 ? 'ES8' : 'ES5' };
}

export function tracedEs5Channel(inner: Es5Channel, log: TransactionLog): Es5Channel {
  return {
    async run(eid: string, commands: readonly CommandApdu[], options?: Es5RunOptions): Promise<ResponseApdu[]> {
      if (!log.running(eid)) return inner.run(eid, commands, options); // no MNO call to attach it to (ES3, audits)
      const { label, iface } = scriptSummary(commands);
      const done = log.downstream(eid, { step: `${iface.toLowerCase()}.${label}`, to: 'eUICC', iface, label });
      try {
        const responses = await inner.run(eid, commands, options);
        const last = responses.at(-1);
        done(last ? last.sw.toString(16).toUpperCase().padStart(4, '0') : 'no response');
        return responses;
      } catch (error) {
        done(`error ${isRspError(error) ? error.code : 'unexpected'}`);
        throw error;
      }
    },
    close: () => inner.close(),
  };
}

/** The card lock's turns, told to the log: while a call holds a card, the card's scripts are its steps. */
export function cardTurnsOf(log: TransactionLog): CardTurns {
  return {
    begin: (eid, call) => log.hold(eid, call?.requester !== undefined && call.functionCallIdentifier !== undefined ? { by: call.requester, callId: call.functionCallIdentifier } : undefined),
    end: (eid) => log.release(eid),
  };
}
