/**
 * GET DATA on the ECASD (GP CS v2.3 §11.3; SGP.02 §2.2.2 ECASD content), unsecured: the EID and the
 * ECASD certificate are public.
 *
 *   80|00 CA 00 5A 00   → 5A 10 EID (16 bytes BCD, plain nibble order — @rsp/pki eidToBytes)
 *   80|00 CA 7F 21 00   → 7F21 L CERT.ECASD.ECKA (GP Amd E certificate, as stored)
 */
import { eidToBytes } from '@rsp/pki';
import { encodeTlv, type CommandApdu } from '@rsp/tlv';
import type { CardContext, CommandHandler } from '../context';
import { ok } from '../dispatcher';
import { CardError } from '@rsp/offcard';

function getData(ctx: CardContext, apdu: CommandApdu) {
  const tag = (apdu.p1 << 8) | apdu.p2;
  if (tag === 0x005a) return ok(encodeTlv(0x5a, eidToBytes(ctx.state.eid)));
  if (tag === 0x7f21) return ok(Buffer.from(ctx.state.ecasd.certificate, 'hex'));
  throw new CardError.ReferencedDataNotFound(`ECASD has no data object ${tag.toString(16)}`);
}

export const ECASD_COMMANDS: CommandHandler[] = [
  {
    name: 'ECASD GET DATA (EID 5A, CERT.ECASD.ECKA 7F21)',
    spec: 'GP CS v2.3 §11.3; SGP.02 §2.2.2',
    app: 'ecasd',
    secured: false,
    matches: (apdu) => ((apdu.cla & 0xf0) === 0x80 || (apdu.cla & 0xf0) === 0x00) && apdu.ins === 0xca,
    handle: getData,
  },
];
