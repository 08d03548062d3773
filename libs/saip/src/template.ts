/**
 * A built-in minimal M2M profile template (header + MF + PUK + PIN + USIM + AKA + end), so the SM-DP
 * needs no external template file. File-system values not given here come from the Interoperable Format
 * templates (MF `2.23.143.1.2.1`, USIM `2.23.143.1.2.4`); the FCP values given (ADF.USIM, EF.DIR) are the
 * ones of the GSMA TS.48 Generic eUICC Test Profile.
 */
import { encodeEfAcc, encodeEfAd, encodeEfIccid, encodeEfImsi } from './ef-content';
import type { ProfilePackage } from './package';
import { validateProfilePackage } from './package';
import { encodePinValue, encodePukValue, KEY_REFERENCE, type PinConfiguration } from './pe-codes';
import { TEMPLATE_OID } from './pe-filesystem';

/** USIM AID of the 3GPP USIM application used by TS.48 (RID A000000087, app code 1002). */
export const DEFAULT_USIM_AID = 'A0000000871002FF49FF0589';

export interface DefaultTemplateOptions {
  /** Placeholder ICCID (Luhn-valid); default the TS.48 test ICCID 89000123456789012341. */
  iccid?: string;
  /** Placeholder IMSI; default 001010000000001 (test PLMN 001-01). */
  imsi?: string;
  profileType?: string;
  pin1?: string;
  puk1?: string;
  /** ADM1 (8 digits); the template defines no ADM1 unless given. */
  adm1?: string;
  mncLength?: 2 | 3;
  usimAid?: string;
  majorVersion?: number;
  minorVersion?: number;
}

const hex = (h: string): Buffer => Buffer.from(h, 'hex');

/** Builds the default template as a decoded package (encode with `encodeProfilePackage`). */
export function buildDefaultTemplate(options: DefaultTemplateOptions = {}): ProfilePackage {
  const iccid = options.iccid ?? '89000123456789012341';
  const imsi = options.imsi ?? '001010000000001';
  const usimAid = hex(options.usimAid ?? DEFAULT_USIM_AID);
  // EF.DIR record (TS 102 221 §13.1): 61 L { 4F AID, 50 label "USIM" }.
  const label = Buffer.from('USIM', 'ascii');
  const dirRecord = Buffer.concat([Buffer.of(0x61, usimAid.length + label.length + 4, 0x4f, usimAid.length), usimAid, Buffer.of(0x50, label.length), label]);

  const pins: PinConfiguration[] = [
    {
      keyReference: KEY_REFERENCE.pinAppl1,
      pinValue: encodePinValue(options.pin1 ?? '0000'),
      unblockingPinReference: KEY_REFERENCE.pukAppl1,
      pinAttributes: 6, // as PIN1 in TS.48
    },
  ];
  if (options.adm1 !== undefined) {
    pins.push({ keyReference: KEY_REFERENCE.adm1, pinValue: encodePukValue(options.adm1), pinAttributes: 3, maxAttemptsRetryLeft: 170 });
  }

  const pkg: ProfilePackage = {
    elements: [
      {
        kind: 'header',
        majorVersion: options.majorVersion ?? 2,
        minorVersion: options.minorVersion ?? 3,
        profileType: options.profileType ?? 'RSP simulator M2M profile',
        iccid,
        mandatoryServices: ['usim', 'milenage'],
        mandatoryGfsteList: [TEMPLATE_OID.mf, TEMPLATE_OID.usim],
      },
      {
        kind: 'mf',
        header: { mandated: true, identification: 1 },
        templateId: TEMPLATE_OID.mf,
        files: [
          { name: 'mf', elements: [{ type: 'fcp', fcp: { securityAttributesReferenced: hex('2F0601'), pinStatusTemplateDO: hex('010A0B') } }] },
          { name: 'ef-iccid', elements: [{ type: 'fillFileContent', content: encodeEfIccid(iccid) }] },
          {
            name: 'ef-dir',
            elements: [
              { type: 'fcp', fcp: { fileDescriptor: hex('42210021'), fileId: hex('2F00'), securityAttributesReferenced: hex('2F0602'), efFileSize: hex('21') } },
              { type: 'fillFileContent', content: dirRecord },
            ],
          },
          { name: 'ef-arr', elements: [] },
        ],
      },
      {
        kind: 'pukCodes',
        header: { mandated: true, identification: 2 },
        puks: [{ keyReference: KEY_REFERENCE.pukAppl1, pukValue: encodePukValue(options.puk1 ?? '11111111') }],
      },
      { kind: 'pinCodes', header: { mandated: true, identification: 3 }, pins },
      {
        kind: 'usim',
        header: { mandated: true, identification: 4 },
        templateId: TEMPLATE_OID.usim,
        files: [
          {
            name: 'adf-usim',
            elements: [{ type: 'fcp', fcp: { fileId: hex('7FD0'), dfName: usimAid, securityAttributesReferenced: hex('2F0601'), pinStatusTemplateDO: hex('81010A0B') } }],
          },
          { name: 'ef-imsi', elements: [{ type: 'fillFileContent', content: encodeEfImsi(imsi) }] },
          { name: 'ef-arr', elements: [] },
          { name: 'ef-ust', elements: [] },
          { name: 'ef-spn', elements: [] },
          { name: 'ef-est', elements: [] },
          { name: 'ef-acc', elements: [{ type: 'fillFileContent', content: encodeEfAcc(Number(imsi.slice(-1))) }] },
          { name: 'ef-ad', elements: [{ type: 'fillFileContent', content: encodeEfAd(options.mncLength ?? 2) }] },
          { name: 'ef-ecc', elements: [] },
        ],
      },
      {
        kind: 'akaParameter',
        header: { mandated: true, identification: 5 },
        algoParameter: { algorithm: 'milenage', algorithmOptions: Buffer.of(0), key: Buffer.alloc(16), opc: Buffer.alloc(16) },
      },
      { kind: 'end', header: { mandated: true, identification: 6 } },
    ],
  };
  validateProfilePackage(pkg);
  return pkg;
}
