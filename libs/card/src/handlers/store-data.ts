/**
 * STORE DATA on the ISD-R (GP CS v2.3 §11.11; SGP.02 §4.1.1 ES5 functions carried as DGIs).
 *
 *   80 E2 P1 P2 Lc  DGI(2) L(1 | FF+2) value     P1 b8 last block, b5-b4 = 01 DGI format, b1 response expected
 *
 * Under C-DECRYPTION the data is encrypted until the dispatcher unwraps it, so rows cannot be told
 * apart by their data at routing time: one STORE DATA row decodes the (unwrapped) first DGI and hands
 * it to the function registered for that DGI. Other modules (ES8 3A01/3A02) contribute
 * {@link StoreDataFunction}s to the same row via {@link storeDataRow}.
 */
import { decodeDgis, type CommandApdu, type ResponseApdu } from '@rsp/tlv';
import type { CardContext, CommandHandler } from '../context';
import { CardError } from '@rsp/offcard';
import { isCommand } from './common';

const INS_STORE_DATA = 0xe2;
/** P1 b5-b4: data structure; 01 = DGI (GP CS §11.11.2.1 Table 11-89). */
const P1_STRUCTURE_MASK = 0x18;
const P1_STRUCTURE_DGI = 0x08;

/** One STORE DATA function, addressed by the DGI of its data. */
export interface StoreDataFunction {
  readonly name: string;
  readonly spec: string;
  readonly dgi: number;
  /** `value` is the first DGI's value; `apdu` the whole unwrapped command (for functions with several DGIs). */
  handle(ctx: CardContext, value: Buffer, apdu: CommandApdu): ResponseApdu;
}

/** Builds the ISD-R's STORE DATA row dispatching on the first DGI (unknown DGI → 6A88, GP CS Table 11-91 [U]). */
export function storeDataRow(functions: readonly StoreDataFunction[]): CommandHandler {
  const byDgi = new Map(functions.map((f) => [f.dgi, f]));
  return {
    name: `ISD-R STORE DATA (DGI ${functions.map((f) => f.dgi.toString(16).toUpperCase()).join('/')})`,
    spec: 'GP CS v2.3 §11.11; SGP.02 §4.1.1',
    app: 'isd-r',
    secured: true,
    matches: (apdu) => isCommand(apdu, 0x80, INS_STORE_DATA),
    handle(ctx, apdu) {
      if ((apdu.p1 & P1_STRUCTURE_MASK) !== P1_STRUCTURE_DGI) throw new CardError.IncorrectP1P2('STORE DATA must use the DGI format');
      const [first] = decodeDgis(apdu.data);
      if (!first) throw new CardError.WrongLength('STORE DATA without data');
      const fn = byDgi.get(first.dgi);
      if (!fn) throw new CardError.ReferencedDataNotFound(`no STORE DATA function for DGI ${first.dgi.toString(16)}`);
      return fn.handle(ctx, first.value, apdu);
    },
  };
}
