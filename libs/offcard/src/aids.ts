/** Application identifiers of SGP.02 Annex H (values as listed in SPEC-NOTES.md, via pySim). */
export const AID = {
  ISD_R: 'A0000005591010FFFFFFFF8900000100',
  ECASD: 'A0000005591010FFFFFFFF8900000200',
  /** Executable load file of the ISD-P (INSTALL [for install] parameter). */
  ISD_P_LOAD_FILE: 'A0000005591010FFFFFFFF8900000D00',
  /** Executable module of the ISD-P. */
  ISD_P_MODULE: 'A0000005591010FFFFFFFF8900000E00',
} as const;

/** Prefix of per-profile ISD-P AIDs: A0000005591010FFFFFFFF89 xx xx xx 00. */
export const ISD_P_AID_PREFIX = 'A0000005591010FFFFFFFF89';

/** The n-th ISD-P AID (n ≥ 1), as an SM-SR allocates them. */
export function isdpAid(n: number): string {
  return `${ISD_P_AID_PREFIX}${(0x1000 + n).toString(16).toUpperCase().padStart(6, '0')}00`;
}

export function isIsdpAid(aid: string): boolean {
  return aid.length === 32 && aid.toUpperCase().startsWith(ISD_P_AID_PREFIX) && aid.endsWith('00') && !Object.values(AID).includes(aid.toUpperCase() as never);
}
