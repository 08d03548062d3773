import { describe, it, expect } from '@jest/globals';
import { isRspError } from '@rsp/errors';
import {
  buildDefaultTemplate,
  decodeProfilePackage,
  encodeProfilePackage,
  personaliseProfile,
  redactProfileSummary,
  SaipError,
  summariseProfile,
} from '@rsp/saip';
import fc from 'fast-check';
import { ts48 } from './support';

const values = {
  iccid: '8988211000000467343',
  imsi: '001010123456789',
  ki: Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex'),
  opc: Buffer.from('101112131415161718191a1b1c1d1e1f', 'hex'),
  pin1: '2468',
  puk1: '87654321',
  profileType: 'Test M2M',
};

describe('personaliseProfile', () => {
  it('personalise then summarise gives back the values (template as package and as DER)', () => {
    const template = buildDefaultTemplate();
    for (const input of [template, encodeProfilePackage(template)]) {
      const der = personaliseProfile(input, values);
      const s = summariseProfile(der);
      expect(s).toMatchObject({
        iccid: values.iccid, efIccid: values.iccid, imsi: values.imsi, algorithm: 'milenage',
        ki: values.ki.toString('hex').toUpperCase(), opc: values.opc.toString('hex').toUpperCase(),
        pin1: values.pin1, puk1: values.puk1, profileType: values.profileType, sizeBytes: der.length,
      });
    }
  });

  it('a template given as DER gives the same bytes on every call as the decoded template does, and follows its bytes if they change', () => {
    const template = encodeProfilePackage(buildDefaultTemplate());
    const other = { ...values, iccid: '8988211000000467350', imsi: '001010123456780', pin1: undefined, puk1: undefined };
    for (const v of [values, other, values]) {
      expect(personaliseProfile(template, v).equals(personaliseProfile(decodeProfilePackage(template), v))).toBe(true);
    }
    const changing = Buffer.from(template);
    personaliseProfile(changing, values);
    changing.fill(0); // the same object, other bytes: its cached decoding must not be used
    expect(() => personaliseProfile(changing, values)).toThrow();
  });

  it('does not modify the template and sets EF.ACC from the last IMSI digit', () => {
    const template = buildDefaultTemplate();
    const before = encodeProfilePackage(template);
    const der = personaliseProfile(template, values);
    expect(encodeProfilePackage(template).equals(before)).toBe(true);
    const usim = decodeProfilePackage(der).elements.find((pe) => pe.kind === 'usim');
    const acc = usim?.kind === 'usim' ? usim.files.find((f) => f.name === 'ef-acc') : undefined;
    expect(acc?.elements).toEqual([{ type: 'fillFileContent', content: Buffer.from('0200', 'hex') }]);
  });

  it('personalises the real TS.48 package (switching its test algorithm to Milenage)', () => {
    const { der } = ts48();
    const s = summariseProfile(personaliseProfile(der, values));
    expect(s).toMatchObject({ iccid: values.iccid, imsi: values.imsi, algorithm: 'milenage', pin1: '2468', puk1: values.puk1 });
    expect(s.unknownElementCount).toBe(8);
  });

  it('refuses bad values with typed errors', () => {
    const template = buildDefaultTemplate();
    expect(() => personaliseProfile(template, { ...values, ki: Buffer.alloc(15) })).toThrow(SaipError.BadValue);
    expect(() => personaliseProfile(template, { ...values, opc: Buffer.alloc(17) })).toThrow(SaipError.BadValue);
    expect(() => personaliseProfile(template, { ...values, imsi: '12345' })).toThrow(SaipError.BadValue);
    expect(() => personaliseProfile(template, { ...values, iccid: '8988211000000467344' })).toThrow(SaipError.BadValue);
    expect(() => personaliseProfile(template, { ...values, pin1: '12' })).toThrow(SaipError.BadValue);
    expect(() => personaliseProfile(template, { ...values, puk1: '1234' })).toThrow(SaipError.BadValue);
  });

  it('refuses a template without the PE a value needs (TemplateMismatch, status 6)', () => {
    const template = buildDefaultTemplate();
    template.elements = template.elements.filter((pe) => pe.kind !== 'pinCodes');
    expect(() => personaliseProfile(template, values)).toThrow(SaipError.TemplateMismatch);
    const { pin1: _pin1, ...withoutPin } = values;
    expect(summariseProfile(personaliseProfile(template, withoutPin)).pin1).toBeUndefined();
  });

  it('redactProfileSummary hides Ki, OPc, PIN and PUK', () => {
    const s = summariseProfile(personaliseProfile(buildDefaultTemplate({ adm1: '99999999' }), values));
    const r = redactProfileSummary(s);
    expect(r).toMatchObject({ ki: '<redacted>', opc: '<redacted>', pin1: '<redacted>', puk1: '<redacted>', adm1: '<redacted>' });
    expect(r.iccid).toBe(values.iccid);
    const text = JSON.stringify(r);
    for (const secret of [s.ki, s.opc, values.pin1, values.puk1, '99999999']) expect(text).not.toContain(secret);
    expect(s.ki).toBe('000102030405060708090A0B0C0D0E0F'); // the original is untouched
  });
});

describe('fuzz: decodeProfilePackage only throws RspErrors', () => {
  const template = encodeProfilePackage(buildDefaultTemplate());
  const onlyRspErrors = (bytes: Uint8Array): void => {
    try {
      decodeProfilePackage(bytes);
    } catch (e) {
      if (!isRspError(e) || !(e as Error).constructor.name.match(/^(Malformed|BadValue|PeOrder|UnsupportedAlgorithm|UnsupportedVersion)$/)) {
        throw e;
      }
    }
  };

  it('arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), onlyRspErrors), { numRuns: 3000 });
  });

  it('the template with one byte changed or a prefix cut', () => {
    fc.assert(
      fc.property(fc.nat(template.length - 1), fc.integer({ min: 0, max: 255 }), fc.boolean(), (at, value, cut) => {
        const mutated = Buffer.from(template);
        mutated[at] = value;
        onlyRspErrors(cut ? template.subarray(0, at) : mutated);
      }),
      { numRuns: 3000 },
    );
  });
});
