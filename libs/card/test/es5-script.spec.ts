import { describe, expect, it } from '@jest/globals';
import {
  Es5ScriptMalformedError,
  decodeCommandScript,
  decodeResponseScript,
  encodeCommandScript,
  encodeResponseScript,
  statusWordOf,
} from '@rsp/offcard';
import { executeScript } from '../src/script-runner';

const apdu = (hex: string) => Buffer.from(hex, 'hex');

describe('ES5 expanded scripts (TS 102 226 §5.2, SGP.02 Annex K)', () => {
  it('encodes a command script byte for byte', () => {
    const script = encodeCommandScript({ chaining: 0x01, commands: [apdu('80CA005A00'), apdu('80E28800')] });
    expect(script.toString('hex')).toBe('aa10' + '830101' + '220580ca005a00' + '220480e28800');
    expect(decodeCommandScript(script)).toEqual({ chaining: 1, commands: [apdu('80CA005A00'), apdu('80E28800')] });
  });

  it('encodes a response script with the executed count first', () => {
    const script = encodeResponseScript({ executed: 2, responses: [apdu('0102039000'), apdu('6A80')] });
    expect(script.toString('hex')).toBe('ab0e' + '800102' + '2305' + '0102039000' + '23026a80');
    expect(decodeResponseScript(script)).toEqual({ executed: 2, responses: [apdu('0102039000'), apdu('6A80')] });
  });

  it('uses BER long lengths for big scripts', () => {
    const big = Buffer.alloc(300, 0x11);
    const script = encodeCommandScript({ commands: [big] });
    expect(script.subarray(0, 4).toString('hex')).toBe('aa82' + (300 + 4).toString(16).padStart(4, '0'));
    expect(decodeCommandScript(script).commands[0]).toEqual(big);
  });

  it('refuses malformed scripts with a typed error', () => {
    for (const bad of ['ab00', 'aa03220180', 'aa0381010a', 'aa02220100', '']) {
      expect(() => decodeCommandScript(Buffer.from(bad, 'hex'))).toThrow(Es5ScriptMalformedError);
    }
    expect(() => decodeResponseScript(Buffer.from('ab0423026a80', 'hex'))).toThrow(Es5ScriptMalformedError);
    expect(() => statusWordOf(Buffer.of(0x90))).toThrow(Es5ScriptMalformedError);
  });

  it('executes in order and stops after the first non-success status word', () => {
    const seen: string[] = [];
    const card = {
      transmit(c: Uint8Array) {
        const h = Buffer.from(c).toString('hex');
        seen.push(h);
        if (h.startsWith('00ee')) return apdu('6a80');
        if (h.startsWith('00c0')) return apdu('aa6110');
        if (h.startsWith('00f0')) return apdu('9f10');
        return apdu('9000');
      },
    };
    const script = encodeCommandScript({ commands: [apdu('00c00000'), apdu('00f00000'), apdu('00ee0000'), apdu('00010000')] });
    const response = decodeResponseScript(executeScript(card, script));
    expect(response.executed).toBe(3);
    expect(response.responses.map((r) => statusWordOf(r).toString(16))).toEqual(['6110', '9f10', '6a80']);
    expect(seen).toHaveLength(3); // the fourth command never reached the card
  });

  it('runs every command when all succeed', () => {
    const card = { transmit: () => apdu('9000') };
    const response = decodeResponseScript(executeScript(card, encodeCommandScript({ commands: [apdu('00010000'), apdu('00020000')] })));
    expect(response).toEqual({ executed: 2, responses: [apdu('9000'), apdu('9000')] });
  });
});

describe('lifeCycleName (GP CS §5.3.2 codings, named for people)', () => {
  it('names the four ISD-P states and never guesses an unknown one', async () => {
    const { lifeCycleName, ISDP_LIFE_CYCLE } = await import('@rsp/offcard');
    expect([0x07, 0x0f, 0x1f, 0x3f].map(lifeCycleName)).toEqual(['SELECTABLE', 'PERSONALIZED', 'DISABLED', 'ENABLED']);
    expect(lifeCycleName(ISDP_LIFE_CYCLE.ENABLED)).toBe('ENABLED');
    expect(lifeCycleName(0x03)).toBe('UNKNOWN (0x03)');
  });
});
