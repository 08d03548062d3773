import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RspError } from '@rsp/errors';
import { CardError } from '@rsp/offcard';
import { PkiError, validateEcasdChain } from '@rsp/pki';
import { ContractError, ERROR_STATUS_MAP, REASON, STATUS_CODE, SUBJECT, StatusError, toExecutionStatus } from '../src';
import { testPki } from './support';

const LIBS = fileURLToPath(new URL('../../', import.meta.url));

/** Every `ERR_*` code declared as a static `code` under libs/<name>/src (the source of truth). */
function declaredErrorCodes(): Map<string, string> {
  const codes = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts')) {
        const text = readFileSync(path, 'utf8');
        for (const match of text.matchAll(/static (?:override )?readonly code(?:: string)? = '(ERR_[A-Z0-9_]+)'/g)) {
          codes.set(match[1] ?? '', path.slice(LIBS.length));
        }
      }
    }
  };
  for (const lib of readdirSync(LIBS)) {
    const src = join(LIBS, lib, 'src');
    if (statSync(join(LIBS, lib)).isDirectory() && readdirSync(join(LIBS, lib)).includes('src')) walk(src);
  }
  return codes;
}

describe('error → FunctionExecutionStatus mapping', () => {
  const declared = declaredErrorCodes();

  it('finds the error codes of the libs (sanity)', () => {
    expect(declared.size).toBeGreaterThan(50);
    expect(declared.has('ERR_PKI_SIGNATURE_INVALID')).toBe(true);
    expect(declared.has('ERR_CONTRACT_INVALID_PARAMETER')).toBe(true);
  });

  it('maps EVERY ERR_* code declared in libs/', () => {
    const unmapped = [...declared].filter(([code]) => !(code in ERROR_STATUS_MAP)).map(([code, file]) => `${code} (${file})`);
    expect(unmapped).toEqual([]);
  });

  it('has no stale rows for codes that no longer exist', () => {
    expect(Object.keys(ERROR_STATUS_MAP).filter((code) => !declared.has(code))).toEqual([]);
  });

  it('every row is a well-formed code pair with a fixed message', () => {
    for (const row of Object.values(ERROR_STATUS_MAP)) {
      expect(row.subjectCode).toMatch(/^\d+(\.\d+)*$/);
      expect(row.reasonCode).toMatch(/^\d+(\.\d+)*$/);
      expect(row.message.length).toBeGreaterThan(0);
    }
  });

  it('a real ECASD chain failure → 8.5.2 / 6.3 invalid ECASD certificate, without the internal message', () => {
    const pki = testPki();
    const euicc = pki.euiccs[0];
    if (euicc === undefined) throw new Error('no eUICC');
    const tampered = Buffer.from(euicc.ecasd.cert);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 0x01; // flip a bit of the signature
    let thrown: unknown;
    try {
      validateEcasdChain({ ecasdCert: tampered, eumDer: pki.eum.der, ciDer: pki.ci.der, eid: euicc.eid, now: new Date() });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(RspError);
    const status = toExecutionStatus(thrown, euicc.eid);
    expect(status.statusCodeData).toMatchObject({ subjectCode: SUBJECT.ECASD_CERTIFICATE, reasonCode: REASON.INVALID_CERTIFICATE, subjectIdentifier: euicc.eid });
    expect(status.statusCodeData?.message).toBe('Invalid ECASD certificate');
  });

  it('card status words map to profile / eUICC codes', () => {
    expect(toExecutionStatus(new CardError.ConditionsNotSatisfied('isd-p in state 0x07'), '8988').statusCodeData).toMatchObject({
      subjectCode: '8.2.1',
      reasonCode: '1.2',
      subjectIdentifier: '8988',
    });
    expect(toExecutionStatus(new CardError.NotEnoughMemory('quota')).statusCodeData).toMatchObject({ subjectCode: '8.1', reasonCode: '4.8' });
    expect(toExecutionStatus(new PkiError.InvalidEid('length')).statusCodeData).toMatchObject({ subjectCode: '8.1.1', reasonCode: '2.1' });
  });

  it('unknown errors → 1.2 / 4.2 generic, never the message or stack', () => {
    const secret = new Error('ENOENT /var/lib/keys/sk.ecasd.pem at Object.open');
    const status = toExecutionStatus(secret);
    expect(status).toEqual({ status: 'Failed', statusCodeData: { subjectCode: '1.2', reasonCode: '4.2', message: 'Execution error' } });
    expect(JSON.stringify(status)).not.toContain('keys');
    expect(toExecutionStatus('a string').statusCodeData).toMatchObject({ subjectCode: '1.2', reasonCode: '4.2' });
    expect(toExecutionStatus(undefined).statusCodeData).toMatchObject({ subjectCode: '1.2', reasonCode: '4.2' });
    class Unlisted extends RspError {
      static override readonly code = 'ERR_SOMETHING_NEW';
    }
    expect(toExecutionStatus(new Unlisted('internal detail')).statusCodeData?.message).toBe('Execution error');
  });

  it('StatusError reports its explicit codes (and Expired when asked)', () => {
    expect(toExecutionStatus(new StatusError(STATUS_CODE.EID_UNKNOWN, '89049032123451234512345678901235'))).toEqual({
      status: 'Failed',
      statusCodeData: { subjectCode: '8.1.1', reasonCode: '3.9', subjectIdentifier: '89049032123451234512345678901235', message: 'Unknown EID' },
    });
    expect(toExecutionStatus(new StatusError(STATUS_CODE.TTL_EXPIRED, undefined, { status: 'Expired' })).status).toBe('Expired');
  });

  it('a request past its deadline is reported Expired (1.6 / 5.3)', () => {
    class DeadlinePassed extends RspError {
      static override readonly code = 'ERR_TRANSPORT_EXPIRED';
    }
    expect(toExecutionStatus(new DeadlinePassed('deadline 12:00 passed'))).toEqual({
      status: 'Expired',
      statusCodeData: { subjectCode: '1.6', reasonCode: '5.3', message: 'Time to live expired' },
    });
  });

  it('ContractError uses its parameter path as subjectIdentifier', () => {
    expect(toExecutionStatus(new ContractError.InvalidParameter('eis.profiles[0].iccid', 'an ICCID'), 'ignored').statusCodeData).toEqual({
      subjectCode: '1.6',
      reasonCode: '2.1',
      subjectIdentifier: 'eis.profiles[0].iccid',
      message: 'Invalid parameter',
    });
  });
});
