/**
 * A fake SM-SR for the SM-DP tests: implements the SM-DP's Es3Client in process against real virtual
 * eUICCs (simulator Fleet). Every card operation runs inside a real ES5 SCP03 session with the ISD-R
 * keys, exactly as simulator/test/raw-apdu-es8.spec.ts `openEs5()` does: SELECT ISD-R, INITIALIZE
 * UPDATE / EXTERNAL AUTHENTICATE with defaultIsdRKeySet(eid), then wrap / unwrap every C-APDU.
 */
import { Scp03Host } from '@rsp/crypto';
import { AID, createIsdpApdu, decodeCommandScript, decodeResponseScript, defaultIsdRKeySet, deleteApdu, disableApdu, enableApdu, encodeResponseScript, isdpAid, statusWordOf } from '@rsp/offcard';
import { executedSuccess, failed, signEis, STATUS_CODE, type FunctionExecutionStatus, type StatusCodeData } from '@rsp/contracts';
import { TransportError } from '@rsp/mqtt-transport';
import type { TestPki } from '@rsp/pki';
import { decodeCommandApdu, decodeResponseApdu, encodeCommandApdu, isSuccessSw, type CommandApdu } from '@rsp/tlv';
import type { Es3CallOptions, Es3Client, Es3Function, Es3RequestMap, Es3ResponseMap } from '../src/domain/es3-client';
import type { Fleet } from '../../../simulator/src/fleet';

interface FakeProfile {
  iccid: string;
  isdpAid: string;
  mnoId: string;
  state: 'Created' | 'Disabled' | 'Enabled';
}

const ok = (extra: Record<string, unknown> = {}) => ({ header: { functionExecutionStatus: executedSuccess() }, ...extra });
const refuse = (code: StatusCodeData, subject?: string) => ({ header: { functionExecutionStatus: failed(code, subject) as FunctionExecutionStatus } });

export class FakeSmSr implements Es3Client {
  readonly calls: Array<{ fn: Es3Function; smsrId: string; request: unknown }> = [];
  /** Flip one byte of the first SCP03t segment ('86' TLV in STORE DATA 80 E2 91 00) of the next download. */
  tamperNextSegment = false;
  /**
   * Before the next script that opens an SCP03t session ('84'), run its INSTALL and '84' once more: the
   * ISD-P's counter moves on, so a predicted challenge (scripting mode) is stale.
   */
  staleNextScp03tCounter = false;
  /** Extra latency per function (ms); the reply still honours the caller's timeout, like RspRequester. */
  readonly delays: Partial<Record<Es3Function, number>> = {};
  /** Latency AFTER the card ran the function: a late reply (the SM-DP cannot know what happened). */
  readonly replyDelays: Partial<Record<Es3Function, number>> = {};
  /** The next N calls of a function find the SM-SR unreachable (a transport timeout), the card untouched. */
  readonly failNext: Partial<Record<Es3Function, number>> = {};
  private readonly profiles = new Map<string, FakeProfile[]>();
  private nextIsdp = 0x20;

  constructor(
    private readonly fleet: Fleet,
    private readonly pki: TestPki,
    readonly smsrId = 'smsr.test',
  ) {}

  async call<F extends Es3Function>(fn: F, smsrId: string, request: Es3RequestMap[F], options: Es3CallOptions = {}): Promise<Es3ResponseMap[F]> {
    this.calls.push({ fn, smsrId, request });
    const failures = this.failNext[fn] ?? 0;
    if (failures > 0) {
      this.failNext[fn] = failures - 1;
      throw new TransportError.Timeout(`no reply to ${fn} (the fake SM-SR is unreachable)`);
    }
    const work = (async () => {
      await new Promise((resolve) => setTimeout(resolve, this.delays[fn] ?? 0));
      const response = this.execute(fn, smsrId, request as never) as Es3ResponseMap[F];
      await new Promise((resolve) => setTimeout(resolve, this.replyDelays[fn] ?? 0));
      return response;
    })();
    if (options.timeoutMs === undefined) return work;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TransportError.Timeout(`no reply to ${fn} within ${options.timeoutMs} ms`)), options.timeoutMs);
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  count(fn: Es3Function): number {
    return this.calls.filter((call) => call.fn === fn).length;
  }

  /** The card's ISD-P AIDs right now (from the card, not from this fake's records). */
  cardAids(eid: string): string[] {
    return (this.fleet.device(eid)?.info().profiles ?? []).map((profile) => profile.aid.toUpperCase());
  }

  private execute(fn: Es3Function, smsrId: string, request: Record<string, unknown> & { eid: string }): unknown {
    if (smsrId !== this.smsrId) return refuse(STATUS_CODE.SMSR_UNKNOWN, smsrId);
    if (!this.fleet.has(request.eid)) return refuse(STATUS_CODE.EID_UNKNOWN, request.eid);
    const profiles = this.profiles.get(request.eid) ?? [];
    this.profiles.set(request.eid, profiles);
    const byIccid = () => profiles.find((profile) => profile.iccid === request.iccid);
    try {
      switch (fn) {
        case 'GetEIS':
        case 'AuditEIS':
          return ok({ eis: this.eis(request.eid, profiles) });
        case 'CreateISDP': {
          if (byIccid()) return refuse(STATUS_CODE.ICCID_IN_USE, String(request.iccid));
          const aid = isdpAid(this.nextIsdp++);
          this.runOnCard(request.eid, [createIsdpApdu(aid, { quota: Number(request.requiredMemory) })]);
          profiles.push({ iccid: String(request.iccid), isdpAid: aid, mnoId: String(request.mnoId), state: 'Created' });
          return ok({ isdpAid: aid });
        }
        case 'SendData': {
          const script = decodeCommandScript(Buffer.from(String(request.data), 'hex'));
          const commands = script.commands.map((bytes) => this.maybeTamper(decodeCommandApdu(bytes)));
          const initializeAt = commands.findIndex((apdu) => apdu.cla === 0x80 && apdu.ins === 0xe2 && apdu.p1 === 0x91 && apdu.data[0] === 0x84);
          if (this.staleNextScp03tCounter && initializeAt >= 0) {
            this.staleNextScp03tCounter = false;
            this.runScript(request.eid, commands.slice(0, initializeAt + 1));
          }
          return ok({ euiccResponseData: this.runScript(request.eid, commands).toString('hex').toUpperCase() });
        }
        case 'ProfileDownloadCompleted': {
          const profile = byIccid();
          if (!profile) return refuse(STATUS_CODE.ICCID_UNKNOWN, String(request.iccid));
          profile.state = 'Disabled';
          return ok();
        }
        case 'UpdatePolicyRules':
          return byIccid() ? ok() : refuse(STATUS_CODE.ICCID_UNKNOWN, String(request.iccid));
        case 'EnableProfile':
        case 'DisableProfile':
        case 'DeleteISDP': {
          const profile = byIccid();
          if (!profile) return refuse(STATUS_CODE.ICCID_UNKNOWN, String(request.iccid));
          const apdu = fn === 'EnableProfile' ? enableApdu(profile.isdpAid) : fn === 'DisableProfile' ? disableApdu(profile.isdpAid) : deleteApdu(profile.isdpAid);
          this.runOnCard(request.eid, [apdu]);
          if (fn === 'DeleteISDP') profiles.splice(profiles.indexOf(profile), 1);
          else {
            for (const other of profiles) if (fn === 'EnableProfile' && other.state === 'Enabled') other.state = 'Disabled';
            profile.state = fn === 'EnableProfile' ? 'Enabled' : 'Disabled';
          }
          return ok();
        }
      }
    } catch (error) {
      return refuse({ subjectCode: '8.1', reasonCode: '4.2', message: `eUICC error: ${(error as Error).message}` }, request.eid);
    }
  }

  private eis(eid: string, profiles: FakeProfile[]) {
    const certificate = this.fleet.ecasdCertificate(eid);
    return signEis(
      {
        eid,
        eumId: 'eum.test',
        productionDate: '2026-01-01',
        platformType: 'virtual-euicc',
        platformVersion: '1.0',
        ecasd: { aid: AID.ECASD, certificate: (certificate ?? Buffer.alloc(0)).toString('hex').toUpperCase() },
        remainingMemory: 100_000,
        availableMemoryForProfiles: 100_000,
        smsrId: this.smsrId,
        isdR: { aid: AID.ISD_R },
        profiles: profiles
          .filter((profile) => profile.state !== 'Created')
          .map((profile) => ({ iccid: profile.iccid, isdpAid: profile.isdpAid, mnoId: profile.mnoId, state: profile.state, fallbackAttribute: false, smdpId: 'smdp.test', pol2: [] })),
      },
      this.pki.eum.privateKey,
    );
  }

  private maybeTamper(apdu: CommandApdu): CommandApdu {
    const isSegment = apdu.cla === 0x80 && apdu.ins === 0xe2 && apdu.p1 === 0x91 && apdu.data[0] === 0x86;
    if (!this.tamperNextSegment || !isSegment) return apdu;
    this.tamperNextSegment = false;
    const data = Buffer.from(apdu.data);
    const index = Math.floor(data.length / 2);
    data[index] = (data[index] as number) ^ 0x01;
    return { ...apdu, data };
  }

  /** Runs commands that must all succeed (the SM-SR's own ES5 functions). */
  private runOnCard(eid: string, commands: CommandApdu[]): void {
    const script = decodeResponseScript(this.runScript(eid, commands));
    const refused = script.responses.find((response) => !isSuccessSw(statusWordOf(response)));
    if (refused || script.executed !== commands.length) throw new Error(`card answered ${refused?.subarray(-2).toString('hex') ?? 'nothing'}`);
  }

  /** One ES5 session: SELECT ISD-R, SCP03 with the ISD-R keys, then every command wrapped; the AB script back. */
  private runScript(eid: string, commands: readonly CommandApdu[]): Buffer {
    const send = this.openEs5(eid);
    const responses: Buffer[] = [];
    for (const command of commands) {
      const response = send(command);
      responses.push(response);
      if (!isSuccessSw(response.readUInt16BE(response.length - 2))) break;
    }
    return encodeResponseScript({ executed: responses.length, responses });
  }

  private openEs5(eid: string): (apdu: CommandApdu) => Buffer {
    const transmit = (apdu: CommandApdu) => decodeResponseApdu(this.fleet.transmit(eid, encodeCommandApdu(apdu)));
    const select = transmit({ cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: Buffer.from(AID.ISD_R, 'hex'), le: 256 });
    if (select.sw !== 0x9000) throw new Error(`SELECT ISD-R answered ${select.sw.toString(16)}`);
    const keys = defaultIsdRKeySet(eid);
    const host = new Scp03Host({ keys, kvn: keys.kvn });
    host.processInitializeUpdateResponse(transmit(host.initializeUpdateCommand()));
    host.processExternalAuthenticateResponse(transmit(host.externalAuthenticateCommand(0x33)));
    return (apdu) => {
      const response = host.unwrapResponse(transmit(host.wrapCommand(apdu)));
      return Buffer.concat([response.data, Buffer.of(response.sw >> 8, response.sw & 0xff)]);
    };
  }
}
