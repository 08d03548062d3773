/**
 * A tiny OpenID issuer for tests: serves `/.well-known/openid-configuration` and `/jwks` on an
 * ephemeral port and signs ID tokens with its ES256 key. Counts the requests it answered.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface TestIssuer {
  issuer: string;
  kid: string;
  requests: string[];
  /** Signs `claims` (iss, iat, exp = +1 h filled in unless given) with this issuer's key, or `key`. */
  sign(claims: JWTPayload, options?: { key?: CryptoKey; kid?: string; typ?: string }): Promise<string>;
  close(): Promise<void>;
}

export async function startTestIssuer(options: { discoveryIssuer?: string } = {}): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `test-${randomUUID()}`;
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const requests: string[] = [];
  let issuer = '';
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    res.setHeader('Content-Type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') {
      res.end(JSON.stringify({ issuer: options.discoveryIssuer ?? issuer, jwks_uri: `${issuer}/jwks` }));
    } else if (req.url === '/jwks') {
      res.end(JSON.stringify({ keys: [publicJwk] }));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer,
    kid,
    requests,
    async sign(claims, signOptions = {}) {
      const now = Math.floor(Date.now() / 1000);
      const header: { alg: string; kid: string; typ?: string } = { alg: 'ES256', kid: signOptions.kid ?? kid };
      if (signOptions.typ !== undefined) header.typ = signOptions.typ;
      return new SignJWT({ iss: issuer, iat: now, exp: now + 3600, ...claims })
        .setProtectedHeader(header)
        .sign(signOptions.key ?? privateKey);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
