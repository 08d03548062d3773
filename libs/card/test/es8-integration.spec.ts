/**
 * ES8 through the production command table: a manufactured card, CreateISDP by the SM-SR (ES5), key
 * establishment and download by the SM-DP (ES8, each script in a fresh ES5 session after SELECT ISD-R),
 * then EnableProfile and a network AUTHENTICATE with the downloaded Ki / OPc.
 */
import { describe, expect, it } from '@jest/globals';
import { buildAutn, milenage, type CurveName } from '@rsp/crypto';
import { SW, type CommandApdu } from '@rsp/tlv';
import { ISDP_LIFE_CYCLE, MemoryCardStore, VirtualEuicc } from '../src';
import { isdpAid } from '@rsp/offcard';
import { manufactureFromTestPki } from '../src/manufacture';
import { defaultIsdRKeySet } from '@rsp/offcard';
import {
  buildDownloadCommands,
  buildEstablishKeySetStep1,
  buildEstablishKeySetStep2,
  parseEstablishKeySetStep1Response,
} from '@rsp/offcard';
import { openIsdR, selectApdu, transmit } from './support/es5';
import { testPki } from './support/es8-fixture';
import { personalisedPackage, PROFILE } from './support/es8-flow';
import { createIsdpApdu, enableApdu } from './support/isd-r-commands';

describe.each<CurveName>(['P-256', 'brainpoolP256r1'])('ES8 with the full card on %s', (curve) => {
  it('CreateISDP → EstablishISDPKeySet → DownloadAndInstallation → Enable → AUTHENTICATE', () => {
    const pki = testPki(curve);
    const state = manufactureFromTestPki(pki, 0);
    const euicc = VirtualEuicc.manufacture(state, { store: new MemoryCardStore() });
    const keys = defaultIsdRKeySet(euicc.eid);
    const aid = isdpAid(7);
    /** Each ES5 script in its own session, as the SM-SR delivers them. */
    const script = (commands: CommandApdu[]): Buffer[] => {
      const session = openIsdR(euicc, keys);
      return commands.map((command) => {
        const response = session.send(command);
        expect(response.sw).toBe(SW.OK);
        return response.data;
      });
    };

    script([createIsdpApdu(aid, { quota: 16 * 1024 })]);
    expect(euicc.snapshot().isdps.find((isdp) => isdp.aid === aid)?.lifeCycle).toBe(ISDP_LIFE_CYCLE.SELECTABLE);

    const [, challengeResponse] = script(buildEstablishKeySetStep1({ isdpAid: aid, smdpCertificate: pki.smDp.cert }));
    const step2 = buildEstablishKeySetStep2({
      challenge: parseEstablishKeySetStep1Response(challengeResponse as Buffer),
      smdpPrivateKey: pki.smDp.privateKey,
      ecasdCertificate: Buffer.from(state.ecasd.certificate, 'hex'),
      isdpAid: aid,
    });
    const keySet = step2.finish(script(step2.commands).at(-1) as Buffer);

    const dl = buildDownloadCommands({ isdpAid: aid, keys: keySet.keys, kvn: keySet.kvn, package: personalisedPackage() });
    const externalAuthenticate = dl.externalAuthenticate(script(dl.initializeUpdate()).at(-1) as Buffer);
    const segments = dl.segments(script(externalAuthenticate).at(-1) as Buffer);
    expect(dl.result(script(segments))).toEqual({ peStatus: [{ status: 0 }] });
    expect(euicc.snapshot().isdps.find((isdp) => isdp.aid === aid)?.lifeCycle).toBe(ISDP_LIFE_CYCLE.DISABLED);

    script([enableApdu(aid)]);
    expect(euicc.snapshot().isdps.find((isdp) => isdp.aid === aid)?.lifeCycle).toBe(ISDP_LIFE_CYCLE.ENABLED);

    expect(transmit(euicc, selectApdu('A0000000871002FF49FF0589')).sw).toBe(SW.OK);
    const rand = Buffer.alloc(16, 0x5a);
    const sqn = Buffer.from('000000000021', 'hex');
    const amf = Buffer.from('8000', 'hex');
    const autn = buildAutn({ k: PROFILE.ki, opc: PROFILE.opc, rand, sqn, amf });
    const data = Buffer.concat([Buffer.of(16), rand, Buffer.of(16), autn]);
    const response = transmit(euicc, { cla: 0x00, ins: 0x88, p1: 0x00, p2: 0x81, data, le: 256 });
    expect(response.sw).toBe(SW.OK);
    const { res } = milenage({ k: PROFILE.ki, opc: PROFILE.opc, rand, sqn, amf });
    expect(response.data.subarray(0, 2 + res.length).toString('hex')).toBe(`db08${res.toString('hex')}`);
  });
});
