/**
 * EUICCResponse: the eUICC's answer to a loaded profile package (PE_Definitions 3.3.1), returned to the
 * SM-DP in the response to the last segment (SGP.02 §5.4 / ES8 profile download).
 */
import { SaipError, SaipFailure, PE_STATUS } from './errors';
import { MAX_UINT15 } from './header';
import { SequenceReader, UNIVERSAL, checkNull, cons, decodeUnsigned, decodeUtf8, encodeUnsigned, parseSingleTlv, parseTlvs, prim } from './der';

/*
 * PEStatus ::= SEQUENCE {
 *   status INTEGER { ok(0), pe-not-supported(1), memory-failure(2), bad-values(3), not-enough-memory(4),
 *     invalid-request-format(5), invalid-parameter(6), runtime-not-supported(7), lib-not-supported(8),
 *     template-not-supported(9), feature-not-supported(10), pin-code-missing(11),
 *     unsupported-profile-version(31) },   -- [0] 80
 *   identification UInt15 OPTIONAL,        -- [1] 81  PE that triggered the status
 *   additional-information UInt8 OPTIONAL, -- [2] 82
 *   offset UInt31 OPTIONAL                 -- [3] 83  position in the PE
 * }
 */
export interface PeStatusEntry {
  /** One of {@link PE_STATUS}, an ISO 7816 SW value or a proprietary value (0..65535). */
  status: number;
  identification?: number;
  additionalInformation?: number;
  offset?: number;
}

/*
 * EUICCResponse ::= SEQUENCE {
 *   peStatus SEQUENCE OF PEStatus,                        -- [0] A0 { 30 … }
 *   profileInstallationAborted NULL OPTIONAL,             -- [1] 81
 *   statusMessage UTF8String (SIZE (2..64)) OPTIONAL      -- [2] 82
 * }
 */
export interface EuiccResponse {
  peStatus: PeStatusEntry[];
  profileInstallationAborted?: boolean;
  statusMessage?: string;
}

const MAX_STATUS = 65535;
const MAX_UINT31 = 2147483647;

function optionalInt(tag: number, value: number | undefined, max: number, what: string): Buffer | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 0 || value > max) throw new SaipError.BadValue(`${what} ${value} out of range 0..${max}`);
  return prim(tag, encodeUnsigned(value));
}

export function encodeEuiccResponse(response: EuiccResponse): Buffer {
  const message = response.statusMessage;
  if (message !== undefined && (message.length < 2 || message.length > 64)) {
    throw new SaipError.BadValue('statusMessage must be 2..64 characters');
  }
  return cons(UNIVERSAL.SEQUENCE, [
    cons(0xa0, response.peStatus.map((s) => cons(UNIVERSAL.SEQUENCE, [
      optionalInt(0x80, s.status ?? -1, MAX_STATUS, 'status'), // mandatory: undefined fails the range check
      optionalInt(0x81, s.identification, MAX_UINT15, 'identification'),
      optionalInt(0x82, s.additionalInformation, 255, 'additional-information'),
      optionalInt(0x83, s.offset, MAX_UINT31, 'offset'),
    ]))),
    response.profileInstallationAborted ? prim(0x81, Buffer.alloc(0)) : undefined,
    message === undefined ? undefined : prim(0x82, Buffer.from(message, 'utf8')),
  ]);
}

export function decodeEuiccResponse(der: Uint8Array): EuiccResponse {
  const what = 'EUICCResponse';
  if (!(der instanceof Uint8Array)) throw new SaipError.Malformed(`${what} must be bytes`);
  const outer = parseSingleTlv(der, what);
  if (outer.tag !== UNIVERSAL.SEQUENCE) throw new SaipError.Malformed(`${what}: expected a SEQUENCE`);
  const r = SequenceReader.of(outer, what);
  const peStatus = parseTlvs(r.need(0xa0, 'peStatus').value, what).map((entry): PeStatusEntry => {
    if (entry.tag !== UNIVERSAL.SEQUENCE) throw new SaipError.Malformed(`${what}: PEStatus is not a SEQUENCE`);
    const e = SequenceReader.of(entry, `${what}.PEStatus`);
    const status: PeStatusEntry = { status: decodeUnsigned(e.need(0x80, 'status').value, MAX_STATUS, 'status') };
    const id = e.take(0x81);
    if (id) status.identification = decodeUnsigned(id.value, MAX_UINT15, 'identification');
    const info = e.take(0x82);
    if (info) status.additionalInformation = decodeUnsigned(info.value, 255, 'additional-information');
    const offset = e.take(0x83);
    if (offset) status.offset = decodeUnsigned(offset.value, MAX_UINT31, 'offset');
    e.rest();
    return status;
  });
  const response: EuiccResponse = { peStatus };
  const aborted = r.take(0x81);
  if (aborted) {
    checkNull(aborted, `${what}.profileInstallationAborted`);
    response.profileInstallationAborted = true;
  }
  const message = r.take(0x82);
  if (message) response.statusMessage = decodeUtf8(message.value, `${what}.statusMessage`);
  r.rest();
  return response;
}

/** The EUICCResponse of a successful installation: one `ok` PEStatus. */
export function successResponse(): EuiccResponse {
  return { peStatus: [{ status: PE_STATUS.ok }] };
}

/**
 * The EUICCResponse an eUICC returns when installation fails with `error`: its status and failing PE's
 * identification, installation aborted. Errors that are not SaipErrors are reported as invalid format.
 */
export function errorResponse(error: unknown): EuiccResponse {
  const entry: PeStatusEntry = {
    status: error instanceof SaipFailure ? error.euiccStatus : PE_STATUS.invalidRequestFormat,
  };
  if (error instanceof SaipFailure && error.identification !== undefined) entry.identification = error.identification;
  return { peStatus: [entry], profileInstallationAborted: true };
}
