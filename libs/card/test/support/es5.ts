/**
 * Test helper: the SM-SR end of ES5 against a VirtualEuicc. `openIsdR` selects the ISD-R and opens an
 * SCP03 session (INITIALIZE UPDATE + EXTERNAL AUTHENTICATE); `send` wraps a command (C-MAC, C-DEC) and
 * unwraps the response (R-MAC, R-ENC). Reusable by every card test.
 */
import { Scp03Host, type Scp03StaticKeys } from '@rsp/crypto';
import { decodeResponseApdu, encodeCommandApdu, type CommandApdu, type ResponseApdu } from '@rsp/tlv';
import { type VirtualEuicc } from '../../src';
import { AID } from '@rsp/offcard';

/** Sends one plain command and decodes the R-APDU. */
export function transmit(euicc: VirtualEuicc, apdu: CommandApdu): ResponseApdu {
  return decodeResponseApdu(euicc.transmit(encodeCommandApdu(apdu)));
}

export function selectApdu(aid: string): CommandApdu {
  return { cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: Buffer.from(aid, 'hex'), le: 256 };
}

export interface IsdRSession {
  host: Scp03Host;
  /** Wraps, transmits, unwraps. Throws if the R-MAC does not verify. */
  send(apdu: CommandApdu): ResponseApdu;
  /** Wraps and returns the wrapped command bytes without sending (for replay / tamper tests). */
  wrap(apdu: CommandApdu): Buffer;
}

export interface OpenIsdROptions {
  kvn?: number;
  /** Default 0x33: C-MAC, C-DEC, R-MAC, R-ENC. */
  securityLevel?: number;
  /** Skip SELECT ISD-R (the caller selected it). */
  noSelect?: boolean;
}

export function openIsdR(euicc: VirtualEuicc, keys: Scp03StaticKeys & { kvn?: number }, options: OpenIsdROptions = {}): IsdRSession {
  if (!options.noSelect) {
    const selected = transmit(euicc, selectApdu(AID.ISD_R));
    if (selected.sw !== 0x9000) throw new Error(`SELECT ISD-R failed: ${selected.sw.toString(16)}`);
  }
  const host = new Scp03Host({ keys, kvn: options.kvn ?? keys.kvn ?? 0 });
  host.processInitializeUpdateResponse(transmit(euicc, host.initializeUpdateCommand()));
  host.processExternalAuthenticateResponse(transmit(euicc, host.externalAuthenticateCommand(options.securityLevel ?? 0x33)));
  return {
    host,
    send: (apdu) => host.unwrapResponse(transmit(euicc, host.wrapCommand(apdu))),
    wrap: (apdu) => encodeCommandApdu(host.wrapCommand(apdu)),
  };
}
