/**
 * The SM-SR's access to cards over ES5 (SGP.02 §4.1.1 ISD-R functions, §5.7): one operation per card
 * at a time (an ISD-R holds one SCP03 session, and the registry must follow the card's order of
 * changes), status words checked, failures typed.
 *
 * The card lock has two layers: an in-process queue per EID (cheap; operations of one instance wait
 * here without touching the database), then, when several instances share the card, the database
 * lease of card-lease.ts around the work (ES5 exchanges, the ISD-R handover, the registry writes).
 *
 * Whoever holds a card is told to an optional observer ({@link CardTurns}): the transaction log ties each
 * script on the card to the call holding it, not to whichever call on that EID arrived last.
 */
import { isSuccessSw, type CommandApdu, type ResponseApdu } from '@rsp/tlv';
import type { Es5Channel } from '../es5/es5-channel';
import type { CardLease } from './card-lease';
import { CardStatusError } from './errors';
import type { IsdRKeyHandover } from './isd-r-handover';

export interface NamedCommand {
  name: string;
  apdu: CommandApdu;
}

/** The call an operation on a card serves (the frame's CallContext has these), and its deadline. */
export interface CardCall {
  readonly requester?: string;
  readonly functionCallIdentifier?: string;
  /** Epoch ms; past it the lease wait and the ES5 exchanges end with ERR_ES5_TIMEOUT. */
  readonly deadline?: number;
}

/** Told when an operation takes a card (`call`: absent for the card's own notifications) and lets it go. */
export interface CardTurns {
  begin(eid: string, call: CardCall | undefined): void;
  end(eid: string): void;
}

export class CardGateway {
  private readonly tails = new Map<string, Promise<unknown>>();

  /**
   * `handover`: when given, a card still on the EUM's ISD-R key set gets the SM-SR's own first (isd-r-handover.ts).
   * `lease`: the cross-instance lock; absent = this instance is alone on its database.
   * `turns`: told who holds each card (the transaction log); absent = no one is.
   */
  constructor(
    private readonly es5: Es5Channel,
    private readonly handover?: IsdRKeyHandover,
    private readonly lease?: CardLease,
    private readonly turns?: CardTurns,
  ) {}

  /**
   * Runs `work` for `call` after every earlier operation on `eid` settled: first in this process, then
   * across the instances (the lease, waited for until the call's deadline, else ERR_ES5_TIMEOUT).
   */
  async exclusive<T>(eid: string, work: () => Promise<T>, call?: CardCall): Promise<T> {
    const previous = this.tails.get(eid) ?? Promise.resolve();
    const lease = this.lease;
    const turns = this.turns;
    const held = turns ? () => heldBy(turns, eid, call, work) : work;
    const guarded = lease ? () => lease.withLease(eid, held, call?.deadline) : held;
    const current = previous.catch(() => undefined).then(guarded);
    const tail = current.catch(() => undefined);
    this.tails.set(eid, tail);
    try {
      return await current;
    } finally {
      if (this.tails.get(eid) === tail) this.tails.delete(eid);
    }
  }

  /**
   * The raw R-APDUs (the card stops at the first failing SW; the caller interprets them). Callers hold
   * the card lock ({@link exclusive}), which therefore also covers the ISD-R handover run before them.
   */
  async raw(eid: string, commands: readonly CommandApdu[], deadline?: number): Promise<ResponseApdu[]> {
    const options = deadline === undefined ? {} : { deadline };
    const handover = this.handover;
    await handover?.ensure(eid, deadline);
    const retiring = await handover?.retiring(eid);
    if (!handover || !retiring) return this.es5.run(eid, commands, options);
    // The handover's last step (FinaliseISDRhandover) goes first in this script, over the new keys'
    // session: one ES5 exchange fewer at a card's first operation. A 6A88 (already deleted) stops the
    // script before the caller's commands, which then run alone.
    const [answer, ...rest] = await this.es5.run(eid, [handover.retireCommand(retiring), ...commands], options);
    await handover.retired(eid, retiring, answer);
    return answer && isSuccessSw(answer.sw) ? rest : this.es5.run(eid, commands, options);
  }

  /** Runs the commands and requires a success SW for each; throws {@link CardStatusError} otherwise. */
  async checked(eid: string, commands: readonly NamedCommand[], deadline?: number): Promise<ResponseApdu[]> {
    const responses = await this.raw(eid, commands.map((command) => command.apdu), deadline);
    commands.forEach((command, index) => {
      const response = responses[index];
      if (response === undefined) throw new CardStatusError(0x6f00, command.name); // not executed: an earlier one failed
      if (!isSuccessSw(response.sw)) throw new CardStatusError(response.sw, command.name);
    });
    return responses;
  }
}

async function heldBy<T>(turns: CardTurns, eid: string, call: CardCall | undefined, work: () => Promise<T>): Promise<T> {
  turns.begin(eid, call);
  try {
    return await work();
  } finally {
    turns.end(eid);
  }
}
