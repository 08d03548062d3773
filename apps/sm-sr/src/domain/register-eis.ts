/**
 * ES1.RegisterEIS (SGP.02 §5.5.1 [U numbering]): an EUM registers a newly manufactured eUICC with this
 * SM-SR.
 *
 * | # | step | spec |
 * |---|---|---|
 * | 1 | eum-known: the requester is a configured EUM and names itself as the EIS eumId (else 1.1) | §5.1, §5.5.1 |
 * | 2 | eum-certificate: the EUM certificate chains to the CI (validateEumCertificate) | §2.3 |
 * | 3 | eis-signature: the EUM signature verifies over the EumSignedInfo *as received* | §5.5.1, Annex E |
 * | 4 | eid-permitted: the EID is inside the EUM certificate's permittedEins (8.1.1 / 1.2) | §2.3 |
 * | 5 | ecasd-certificate: CERT.ECASD.ECKA is signed by that EUM (validateEcasdChain; 8.5.2 / 6.3) | §2.3 |
 * | 6 | smsr: the EIS names this SM-SR (8.7 / 3.9) | Annex E |
 * | 7 | unique: neither the EID nor a profile ICCID is registered yet (8.1.1 / 3.3, 8.2.1 / 3.3) | §3.3 |
 * | 8 | store: the EIS and the ISD-R initial key set (sealed at rest) | §5.5.1 |
 *
 * ISD-R keys: SGP.02 has the EUM hand the initial ISD-R key set to the SM-SR out of band. Here the
 * demo/test EUM manufactures every card with `defaultIsdRKeySet(eid)` (a public TEST derivation), so
 * that is what the SM-SR stores at registration (`initialIsdRKeys`, injectable).
 */
import { defaultIsdRKeySet, type IsdRKeySet } from '@rsp/offcard';
import { EUM_SIGNED_FIELDS, STATUS_CODE, StatusError, verifyEisSignature, type Eis, type EumSignedInfo, type es1 } from '@rsp/contracts';
import { isRspError } from '@rsp/errors';
import { eidMatchesPermittedEins, validateEcasdChain, validateEumCertificate, type ValidatedEum } from '@rsp/pki';
import { DuplicateEidError, SMSR_STATUS } from './errors';
import type { CallContext } from './function-runner';
import type { EisRegistry, EuiccRecord, ProfileRecord } from './model';

export interface RegisterEisDependencies {
  registry: EisRegistry;
  smsrId: string;
  /** CI certificate (X.509 DER): the trust anchor. */
  ciCertificate: Buffer;
  /** EUM certificates (X.509 DER) by eumId. */
  eums: ReadonlyMap<string, Buffer>;
  now: () => Date;
  initialIsdRKeys?: (eid: string) => IsdRKeySet;
}

export class RegisterEis {
  constructor(private readonly deps: RegisterEisDependencies) {}

  /** `received` is the request body as it arrived: the signature is checked over its EIS, not a re-encoding. */
  async execute(request: es1.RegisterEisRequest, context: CallContext, received: unknown): Promise<Record<string, never>> {
    const { eis } = request;
    const receivedEis = (received as { eis: Eis }).eis;
    const now = this.deps.now();

    const eumDer = this.deps.eums.get(context.requester);
    if (eumDer === undefined) throw new StatusError(SMSR_STATUS.REQUESTER_UNKNOWN, context.requester); // 1
    if (eis.eumId !== context.requester) throw new StatusError(SMSR_STATUS.REQUESTER_NOT_ALLOWED, 'eis.eumId');

    let eum: ValidatedEum;
    try {
      eum = validateEumCertificate(eumDer, { ciDer: this.deps.ciCertificate, now }); // 2
    } catch (cause) {
      throw new StatusError(SMSR_STATUS.EUM_CERTIFICATE_INVALID, context.requester, { cause });
    }
    if (!verifyEisSignature(receivedEis, eum.eum.publicKey)) throw new StatusError(SMSR_STATUS.EIS_SIGNATURE_INVALID, 'eis.eumSignature'); // 3
    if (!eidMatchesPermittedEins(eis.eid, eum.permittedEins)) throw new StatusError(SMSR_STATUS.EID_NOT_PERMITTED, eis.eid); // 4
    try {
      validateEcasdChain({ ecasdCert: Buffer.from(eis.ecasd.certificate, 'hex'), eumDer, ciDer: this.deps.ciCertificate, now, eid: eis.eid }); // 5
    } catch (cause) {
      if (isRspError(cause, 'ERR_PKI_EID_NOT_PERMITTED')) throw new StatusError(SMSR_STATUS.EID_NOT_PERMITTED, eis.eid, { cause });
      throw new StatusError(STATUS_CODE.ECASD_CERTIFICATE_INVALID, eis.eid, { cause });
    }
    if (eis.smsrId !== this.deps.smsrId) throw new StatusError(STATUS_CODE.SMSR_UNKNOWN, eis.smsrId); // 6

    if (await this.deps.registry.find(eis.eid)) throw new StatusError(SMSR_STATUS.EID_ALREADY_REGISTERED, eis.eid); // 7
    for (const profile of eis.profiles) {
      if (await this.deps.registry.findByIccid(profile.iccid)) throw new StatusError(STATUS_CODE.ICCID_IN_USE, profile.iccid);
    }

    const record: EuiccRecord = {
      eid: eis.eid,
      eumId: eis.eumId,
      smsrId: eis.smsrId,
      signedInfo: signedPartOf(receivedEis),
      eumSignature: eis.eumSignature,
      isdRAid: eis.isdR.aid.toUpperCase(),
      remainingMemory: eis.remainingMemory,
      availableMemoryForProfiles: eis.availableMemoryForProfiles,
      registeredAt: now,
      profiles: eis.profiles.map(
        (profile): ProfileRecord => ({
          eid: eis.eid,
          iccid: profile.iccid,
          isdpAid: profile.isdpAid.toUpperCase(),
          mnoId: profile.mnoId,
          smdpId: profile.smdpId,
          state: profile.state,
          fallback: profile.fallbackAttribute,
          pol2: profile.pol2,
          ...(profile.profileType !== undefined ? { profileType: profile.profileType } : {}),
          ...(profile.allocatedMemory !== undefined ? { allocatedMemory: profile.allocatedMemory } : {}),
          ...(profile.subscriptionAddress !== undefined ? { subscriptionAddress: profile.subscriptionAddress } : {}),
        }),
      ),
    };
    if (eis.lastAuditDate !== undefined) record.lastAuditDate = new Date(eis.lastAuditDate);
    try {
      await this.deps.registry.register(record, (this.deps.initialIsdRKeys ?? defaultIsdRKeySet)(eis.eid)); // 8
    } catch (error) {
      if (error instanceof DuplicateEidError) throw new StatusError(SMSR_STATUS.EID_ALREADY_REGISTERED, eis.eid, { cause: error });
      throw error;
    }
    return {};
  }
}

/** The EumSignedInfo fields of the received EIS, byte-for-byte what the signature covers. */
export function signedPartOf(received: Eis): EumSignedInfo {
  const signed: Record<string, unknown> = {};
  for (const field of EUM_SIGNED_FIELDS) if (received[field] !== undefined) signed[field] = received[field];
  return JSON.parse(JSON.stringify(signed)) as EumSignedInfo;
}
