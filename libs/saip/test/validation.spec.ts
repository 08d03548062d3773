import { describe, it, expect } from '@jest/globals';
import {
  buildDefaultTemplate,
  decodeProfilePackage,
  encodeProfilePackage,
  PE_STATUS,
  SaipError,
  type SaipFailure,
  withReplacedFile,
  type ProfileElement,
} from '@rsp/saip';
import { rawAka, templateParts } from './support';

/** Runs `action`, expecting a SaipError of `type` with the given EUICCResponse status and PE index. */
function expectSaipError(action: () => unknown, type: typeof SaipFailure, status: number, peIndex?: number): SaipFailure {
  let caught: unknown;
  try {
    action();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(type);
  const failure = caught as SaipFailure;
  expect(failure.euiccStatus).toBe(status);
  if (peIndex !== undefined) expect(failure.peIndex).toBe(peIndex);
  return failure;
}

describe('validation of a package as the eUICC applies it', () => {
  const parts = templateParts();
  const der = Buffer.concat(parts);

  it('accepts the default template', () => {
    expect(decodeProfilePackage(der).elements).toHaveLength(7);
  });

  it('truncated package → Malformed, status 5 invalid-request-format, index of the cut PE', () => {
    const failure = expectSaipError(() => decodeProfilePackage(der.subarray(0, der.length - 3)), SaipError.Malformed, 5, 6);
    expect(failure.code).toBe('ERR_SAIP_MALFORMED');
    expectSaipError(() => decodeProfilePackage(Buffer.alloc(0)), SaipError.Malformed, 5);
  });

  it('header not first → PeOrder, status 5, PE 0', () => {
    const swapped = Buffer.concat([parts[1], parts[0], ...parts.slice(2)] as Buffer[]);
    expectSaipError(() => decodeProfilePackage(swapped), SaipError.PeOrder, PE_STATUS.invalidRequestFormat, 0);
  });

  it('missing end → PeOrder, status 5, index of the last PE', () => {
    const noEnd = Buffer.concat(parts.slice(0, -1));
    expectSaipError(() => decodeProfilePackage(noEnd), SaipError.PeOrder, 5, parts.length - 2);
  });

  it('a second ProfileHeader → PeOrder', () => {
    const twice = Buffer.concat([parts[0], ...parts] as Buffer[]);
    expectSaipError(() => decodeProfilePackage(twice), SaipError.PeOrder, 5, 1);
  });

  it('bad ICCID check digit in the header → BadValue, status 3 bad-values, PE 0', () => {
    const bad = Buffer.from(der);
    const at = bad.indexOf(Buffer.from('830a89000123456789012341', 'hex'));
    expect(at).toBeGreaterThan(0);
    bad[at + 11] = 0x42; // …4341 → …4342: wrong Luhn digit
    const failure = expectSaipError(() => decodeProfilePackage(bad), SaipError.BadValue, PE_STATUS.badValues, 0);
    expect(failure.message).toMatch(/check-digit/);
  });

  it('bad ICCID check digit in EF.ICCID → BadValue, status 3, PE 1 (MF)', () => {
    const pkg = buildDefaultTemplate();
    const mf = pkg.elements[1] as Extract<ProfileElement, { kind: 'mf' }>;
    pkg.elements[1] = withReplacedFile(mf, 'ef-iccid', Buffer.from('98001032547698103224', 'hex'));
    const bytes = encodeProfilePackage(pkg, { validate: false });
    expectSaipError(() => decodeProfilePackage(bytes), SaipError.BadValue, 3, 1);
  });

  it('wrong Ki length (15 bytes, Milenage) → BadValue, status 3, index and identification of the AKA PE', () => {
    const bytes = Buffer.concat([...parts.slice(0, 5), rawAka(1, Buffer.alloc(15), Buffer.alloc(16), 11), parts[6]] as Buffer[]);
    const failure = expectSaipError(() => decodeProfilePackage(bytes), SaipError.BadValue, 3, 5);
    expect(failure.message).toMatch(/Ki/);
  });

  it('wrong OPc length → BadValue', () => {
    const bytes = Buffer.concat([...parts.slice(0, 5), rawAka(1, Buffer.alloc(16), Buffer.alloc(8)), parts[6]] as Buffer[]);
    expectSaipError(() => decodeProfilePackage(bytes), SaipError.BadValue, 3, 5);
  });

  it('unknown algorithmID → UnsupportedAlgorithm, status 3', () => {
    const bytes = Buffer.concat([...parts.slice(0, 5), rawAka(7, Buffer.alloc(16), Buffer.alloc(16)), parts[6]] as Buffer[]);
    const failure = expectSaipError(() => decodeProfilePackage(bytes), SaipError.UnsupportedAlgorithm, 3, 5);
    expect(failure.code).toBe('ERR_SAIP_UNSUPPORTED_ALGORITHM');
  });

  it('IMSI of 5 digits in EF.IMSI → BadValue, status 3, PE 4 (USIM)', () => {
    const pkg = buildDefaultTemplate();
    const usim = pkg.elements[4] as Extract<ProfileElement, { kind: 'usim' }>;
    pkg.elements[4] = withReplacedFile(usim, 'ef-imsi', Buffer.from('0309101010ffffffff', 'hex'));
    expectSaipError(() => decodeProfilePackage(encodeProfilePackage(pkg, { validate: false })), SaipError.BadValue, 3, 4);
  });

  it('unknown major version → UnsupportedVersion, status 31', () => {
    const bad = Buffer.from(der);
    expect(bad.subarray(0, 5).toString('hex')).toMatch(/^a0[0-9a-f]{2}800102$/);
    bad[4] = 0x09;
    expectSaipError(() => decodeProfilePackage(bad), SaipError.UnsupportedVersion, PE_STATUS.unsupportedProfileVersion, 0);
  });

  it('duplicate PE identification → BadValue', () => {
    const pkg = buildDefaultTemplate();
    const end = pkg.elements[6];
    if (end?.kind === 'end') end.header.identification = 1;
    expectSaipError(() => encodeProfilePackage(pkg), SaipError.BadValue, 3, 6);
  });

  it('mandatory usim service without PE-USIM → PeOrder', () => {
    const noUsim = Buffer.concat([...parts.slice(0, 4), ...parts.slice(5)] as Buffer[]);
    expectSaipError(() => decodeProfilePackage(noUsim), SaipError.PeOrder, 5, 0);
  });

  it('the encoder refuses invalid values too (no silent wrong DER)', () => {
    const pkg = buildDefaultTemplate();
    const aka = pkg.elements[5];
    if (aka?.kind === 'akaParameter' && aka.algoParameter) aka.algoParameter.key = Buffer.alloc(32);
    expectSaipError(() => encodeProfilePackage(pkg, { validate: false }), SaipError.BadValue, 3, 5);
  });
});
