/**
 * What ES3.SendData may carry (SGP.02 §3.1.2–§3.1.3, §5.4.4 [U numbering]). The SM-SR runs the SM-DP's
 * script inside its own ISD-R SCP03 session, where the ISD-R would obey anything (DELETE of key sets or
 * ISD-Ps, STORE DATA 3A03 EnableProfile, INSTALL [for install]…). So only ES8 for the ISD-P named by
 * `sdAid` passes:
 *
 * | # | rule | spec |
 * |---|---|---|
 * | 1 | the first command is INSTALL [for personalization] of exactly `sdAid` (`80 E6 20 00`) | GP CS §11.5.2.3, SGP.02 §4.1.3.1 |
 * | 2 | every later command is an ES8 STORE DATA (`ES8_HEADER`) addressed to that ISD-P: | GP CS §11.11 |
 * |   | `80 E2 09 00` with DGI 3A01 (CERT.DP.ECDSA) | ES8.EstablishISDPKeySet §4.1.3.1 |
 * |   | `80 E2 89 01` with DGI 3A02 (key establishment) | ES8.EstablishISDPKeySet §4.1.3.1 |
 * |   | `80 E2 91 00` with one SCP03t TLV 84 / 85 / 86 | ES8.DownloadAndInstallation §4.1.3.3 [U carriage] |
 * | 3 | CLA exactly 80 (no logical channel, no secure messaging: the SM-SR wraps) | GP CS §11.1.4 |
 *
 * Anything else refuses the whole script before the card sees any of it (8.4 / 1.2, SMSR_STATUS).
 */
import { buildInstallForPersonalization, ES8_HEADER, ES8_TAG } from '@rsp/offcard';
import { Scp03tTag } from '@rsp/crypto';
import { StatusError } from '@rsp/contracts';
import type { CommandApdu } from '@rsp/tlv';
import { SMSR_STATUS } from './errors';

type Header = { cla: number; ins: number; p1: number; p2: number };

const is = (apdu: CommandApdu, header: Header) => apdu.cla === header.cla && apdu.ins === header.ins && apdu.p1 === header.p1 && apdu.p2 === header.p2;
const firstDgi = (data: Buffer) => (data.length >= 2 ? data.readUInt16BE(0) : -1);
const SCP03T_TAGS: ReadonlySet<number> = new Set(Object.values(Scp03tTag));

/** True when `apdu` is one of the ES8 STORE DATA commands (rule 2). */
function isEs8StoreData(apdu: CommandApdu): boolean {
  if (is(apdu, ES8_HEADER.STORE_DATA_CERTIFICATE)) return firstDgi(apdu.data) === ES8_TAG.DGI_CERTIFICATE;
  if (is(apdu, ES8_HEADER.STORE_DATA_KEY_ESTABLISHMENT)) return firstDgi(apdu.data) === ES8_TAG.DGI_KEY_ESTABLISHMENT;
  if (is(apdu, ES8_HEADER.STORE_DATA_SCP03T)) return apdu.data.length > 0 && SCP03T_TAGS.has(apdu.data[0] as number);
  return false;
}

/**
 * Throws StatusError(SEND_DATA_COMMAND_REFUSED) unless `commands` is INSTALL [for personalization] of
 * `sdAid` followed only by ES8 STORE DATA commands. The subject identifier is `sdAid`; the message names
 * the refused command's index and header, never its data.
 */
export function requireEs8Script(sdAid: string, commands: readonly CommandApdu[]): void {
  const [first, ...rest] = commands;
  const install = buildInstallForPersonalization(sdAid.toUpperCase()); // the only INSTALL allowed, byte for byte
  if (!first || !is(first, install) || !first.data.equals(install.data)) throw refused(sdAid, 0, first); // 1
  rest.forEach((apdu, index) => {
    if (!isEs8StoreData(apdu)) throw refused(sdAid, index + 1, apdu); // 2, 3
  });
}

function refused(sdAid: string, index: number, apdu: CommandApdu | undefined): StatusError {
  const header = apdu ? Buffer.of(apdu.cla, apdu.ins, apdu.p1, apdu.p2).toString('hex').toUpperCase() : 'none';
  const { SEND_DATA_COMMAND_REFUSED: code } = SMSR_STATUS;
  return new StatusError({ ...code, message: `${code.message}: command ${index} (${header})` }, sdAid.toUpperCase());
}
