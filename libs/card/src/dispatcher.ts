/**
 * The command pipeline, one named step per clause (cf. aedes lib/handlers/connect.js):
 *
 *  1. decode         ISO/IEC 7816-4 §5.1       malformed C-APDU → 6700
 *  2. class          ISO/IEC 7816-4 §5.4.1     CLA 00/80/84 (logical channel bits ignored) → else 6E00
 *  3. route          the command table         no handler for the selected application → 6D00
 *  4. authorise      SGP.02 §2.5 / GP Amd D    ES5 commands need the ISD-R's SCP03 session, at least at
 *                                              level 0x13 (es5-security-level.ts) → 6982, session closed
 *  5. unwrap         GP Amd D §6.2.4, §6.2.6   C-MAC first, then C-DECRYPTION → 6982 on failure, session
 *                                              closed (a plain CLA 80 command inside the session included)
 *  6. execute        the handler, on a draft of the state
 *  7. commit         atomic save, then events  (or rollback on any CardFailure)
 *  8. wrap           GP Amd D §6.2.5, §6.2.7   R-MAC / R-ENCRYPTION for 9000/62xx/63xx
 *
 * SELECT, INITIALIZE UPDATE and EXTERNAL AUTHENTICATE are ordinary handlers that run unsecured.
 */
import { isRspError } from '@rsp/errors';
import { SW, decodeCommandApdu, encodeResponseApdu, type CommandApdu, type ResponseApdu } from '@rsp/tlv';
import type { CardContext, CardEnvironment, CardEvent, CommandHandler, VolatileState } from './context';
import { ES5_SECURITY_LEVEL_FLOOR, includesSecurityLevel } from './es5-security-level';
import { CardError, CardFailure, PowerLoss } from '@rsp/offcard';
import type { CardState } from './model';

export interface Transaction {
  state: CardState;
  events: CardEvent[];
}

export interface DispatchResult {
  response: Buffer;
  /** The state passed in, changed in place: present only when the command changed it (the caller saves it atomically). */
  committed?: CardState;
  /** `JSON.stringify(committed)`, present with it. */
  committedJson?: string;
  /**
   * The state as it was before a command that changed it in place and then failed: the caller's state
   * from now on (the object passed in holds a half-done change).
   */
  restored?: CardState;
  events: CardEvent[];
  handler?: string;
}

const CLA_SECURE_MESSAGING = 0x04;

export function dispatch(
  commands: readonly CommandHandler[],
  state: CardState,
  volatile: VolatileState,
  env: CardEnvironment,
  raw: Uint8Array,
  /** `JSON.stringify(state)` when the caller already has it (VirtualEuicc keeps it between commands). */
  stateJson?: string,
): DispatchResult {
  // 1. decode
  let apdu: CommandApdu;
  try {
    apdu = decodeCommandApdu(raw);
  } catch {
    return { response: sw(SW.WRONG_LENGTH), events: [] };
  }
  // 2. class
  // First interindustry (0x0X) or GP proprietary (0x8X) class; b3 = secure messaging, b2-b1 = channel.
  const family = apdu.cla & 0xf0;
  if (family !== 0x00 && family !== 0x80) {
    return { response: sw(SW.CLA_NOT_SUPPORTED), events: [] };
  }
  // 3. route
  const plain = { ...apdu, cla: apdu.cla & ~CLA_SECURE_MESSAGING };
  const handler = commands.find((h) => (h.app === 'any' || h.app === volatile.selected) && h.matches(plain));
  if (!handler) return { response: sw(SW.INS_NOT_SUPPORTED), events: [] };

  const session = volatile.scp03;
  const inSession = handler.secured && session?.isAuthenticated === true;
  let ctx: CommandContext | undefined;
  let before = '';
  try {
    // 4. authorise
    if (handler.secured && !inSession) throw new CardError.SecurityStatus(`${handler.name} needs the ISD-R secure channel`);
    // EXTERNAL AUTHENTICATE already refuses low levels; this holds even for a session opened some other way.
    if (inSession && !includesSecurityLevel(session.securityLevel ?? 0, ES5_SECURITY_LEVEL_FLOOR)) {
      volatile.scp03 = undefined;
      throw new CardError.SecurityStatus(`${handler.name} needs C-MAC, C-DECRYPTION and R-MAC`);
    }
    // 5. unwrap
    const command = inSession ? unwrapOrRefuse(volatile, apdu) : apdu;
    // 6. execute on the live state, in place. Its JSON text before the command is the commit check below
    // and the rollback: a command that changed it is saved, one that failed midway gets the text back
    // as a new object (`restored`). No deep copy per command, the commonest case (bench -- provisioning).
    // A command that never reads ctx.state (EXTERNAL AUTHENTICATE, SCP03t segments buffered in volatile
    // memory …) is not even stringified.
    before = stateJson ?? JSON.stringify(state);
    ctx = new CommandContext(state, volatile, env);
    const response = handler.handle(ctx, command);
    // 8. wrap (7. commit is the caller's: it owns the store)
    const wrapped = inSession && volatile.scp03 ? volatile.scp03.wrapResponse(response) : response;
    // Only a command that changed the state is saved: reads (GET DATA, GET STATUS …) cost no write.
    const after = ctx.touched ? JSON.stringify(state) : before;
    return {
      response: encodeResponseApdu(wrapped),
      ...(after !== before ? { committed: state, committedJson: after } : {}),
      events: ctx.events,
      handler: handler.name,
    };
  } catch (error) {
    // A power loss reloads the stored state and a crash (an untyped error, a bug) the caller's last
    // committed one: the caller restores both.
    if (error instanceof PowerLoss) throw error;
    const restored = ctx?.touched ? { restored: JSON.parse(before) as CardState } : {};
    if (error instanceof CardFailure) return { response: sw(error.sw), events: [], handler: handler.name, ...restored };
    if (isRspError(error)) {
      // A typed error from a lib (bad TLV, bad key …) is bad data from outside, never a crash.
      return { response: sw(SW.INCORRECT_DATA), events: [], handler: handler.name, ...restored };
    }
    throw error;
  }
}

/**
 * The handler's view of one command: the live state (its first read marks the command as one that may
 * have changed it), the volatile state, the environment, and the events to deliver after the commit.
 * A class, not an object of closures: one is made per command.
 */
class CommandContext implements CardContext {
  touched = false;
  readonly events: CardEvent[] = [];

  constructor(
    private readonly live: CardState,
    readonly volatile: VolatileState,
    readonly env: CardEnvironment,
  ) {}

  get state(): CardState {
    this.touched = true;
    return this.live;
  }

  emit(event: CardEvent): void {
    this.events.push(event);
  }

  step(name: string): void {
    if (this.env.faults.powerLossAt?.(name)) throw new PowerLoss(name);
  }
}

function unwrapOrRefuse(volatile: VolatileState, apdu: CommandApdu): CommandApdu {
  try {
    return (volatile.scp03 as NonNullable<VolatileState['scp03']>).unwrapCommand(apdu);
  } catch (cause) {
    volatile.scp03 = undefined; // Amd D §6.2.4: a MAC failure closes the session
    throw new CardError.SecurityStatus('secure messaging check failed', { cause });
  }
}

function sw(value: number): Buffer {
  return encodeResponseApdu({ data: Buffer.alloc(0), sw: value });
}

export function ok(data: Uint8Array = Buffer.alloc(0)): ResponseApdu {
  return { data: Buffer.from(data), sw: SW.OK };
}
