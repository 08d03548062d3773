/**
 * `npx rsp login` (issue 12: "the owner steps need a browser sign-in"): an owner's ID token from the dev IdP
 * through OpenID Connect CIBA (poll mode, the password as user_code), written to a file of mode 600, and
 * accepted by the owner registry exactly like the portal's. A wrong user or password gets nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { runRsp } from '../../../cli/rsp';
import { logLines, startFixture, type Fixture } from './support';

let f: Fixture;
let dir: string;

async function rsp(args: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runRsp(args, { stdout: (text) => void (stdout += text), stderr: (text) => void (stderr += text), env });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  f = await startFixture();
  dir = mkdtempSync(join(tmpdir(), 'rsp-login-'));
}, 30_000);
afterAll(async () => {
  await f?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('npx rsp login', () => {
  it('signs alice in without a browser: a file of mode 600, its path printed, the token never', async () => {
    const out = join(dir, 'alice.jwt');
    const run = await rsp(['login', 'alice', '--idp', f.idp.issuer, '--password', 'alice', '--out', out]);
    expect(run.code).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const token = readFileSync(out, 'utf8').trim();
    expect(run.stderr).toContain(out);
    expect(`${run.stdout}${run.stderr}`).not.toContain(token);
    // An ordinary ID token of the dev IdP for the CLI's client: same issuer and key as the portal's.
    expect(decodeJwt(token)).toMatchObject({ iss: f.idp.issuer, sub: 'alice', aud: 'owner-cli', acr: 'urn:rsp:acr:password', amr: ['pwd'] });
    expect(decodeJwt(token).auth_time).toEqual(expect.any(Number));

    // The owner registry takes it like the portal's.
    const mine = await fetch(`${f.registry.httpUrl}/me/devices`, { headers: { authorization: `Bearer ${token}` } });
    expect(mine.status).toBe(200);
    expect(logLines.join('\n')).not.toContain(token);
  });

  it('--print puts the token on stdout for a script; RSP_OWNER_PASSWORD works too', async () => {
    const run = await rsp(['login', 'bob', '--idp', f.idp.issuer, '--out', join(dir, 'bob.jwt'), '--print'], { RSP_OWNER_PASSWORD: 'bob' });
    expect(run.code).toBe(0);
    expect(decodeJwt(run.stdout.trim()).sub).toBe('bob');
  });

  it.each([
    ['a wrong password', 'alice', 'bob'],
    ['an unknown user', 'mallory', 'mallory'],
  ])('%s gets nothing: exit 1, one line, no file', async (_what, user, password) => {
    const out = join(dir, `${user}-${password}.jwt`);
    const run = await rsp(['login', user, '--idp', f.idp.issuer, '--password', password, '--out', out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^rsp: sign-in refused: (wrong user or password|.*)/);
    expect(run.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
  });

  it('no password: a usage line, nothing sent', async () => {
    const run = await rsp(['login', 'alice', '--idp', f.idp.issuer, '--out', join(dir, 'x.jwt')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/--password/);
  });

  it('a forged token for the CLI client (another key) is refused by the registry', async () => {
    const { SignJWT, generateKeyPair } = await import('jose');
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ acr: 'urn:rsp:acr:password' })
      .setProtectedHeader({ alg: 'ES256', kid: 'forged' })
      .setIssuer(f.idp.issuer)
      .setSubject('alice')
      .setAudience('owner-cli')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    const response = await fetch(`${f.registry.httpUrl}/me/devices`, { headers: { authorization: `Bearer ${forged}` } });
    expect(response.status).toBe(401);
  });
});
