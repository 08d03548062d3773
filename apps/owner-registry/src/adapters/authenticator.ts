/**
 * Who is calling: owners with `Authorization: Bearer <ID token>` verified by OidcVerifier of
 * @rsp/identity (trusted issuers, discovery, JWKS); makers and MNOs with `X-API-Key`, looked up by
 * its SHA-256. Every refused credential is audited (actor anonymous, the ERR_* code as outcome).
 */
import { isRspError } from '@rsp/errors';
import { IdentityError, hashApiKey, sameApiKeyHash, type OidcVerifier } from '@rsp/identity';
import type { AuditLog } from '../domain/audit';
import type { Caller, ClientCaller, OwnerCaller } from '../domain/context';
import { OwnerError } from '../domain/errors';
import type { ApiClientKind } from '../domain/records';
import type { ApiClientRepository } from '../domain/store';

export class Authenticator {
  constructor(
    private readonly verifier: OidcVerifier,
    private readonly apiClients: ApiClientRepository,
    private readonly audit: AuditLog,
  ) {}

  /** The owner of a bearer ID token, or an ERR_IDENTITY_* error (401). */
  async owner(authorization: string | undefined, action: string): Promise<OwnerCaller> {
    try {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
      if (!match) throw new IdentityError.MissingToken('Authorization: Bearer <ID token> required');
      return { kind: 'owner', identity: await this.verifier.verifyIdToken(match[1] as string) };
    } catch (error) {
      await this.audit.record({ caller: undefined, action, target: 'credential:bearer', outcome: isRspError(error) ? error.code : 'ERR_OWNER_INTERNAL' });
      throw error;
    }
  }

  /** A maker or MNO by API key, or ERR_OWNER_UNAUTHENTICATED (401). */
  async client(apiKey: string | undefined, kinds: ApiClientKind[], action: string): Promise<ClientCaller> {
    const hash = apiKey ? hashApiKey(apiKey) : undefined;
    const record = hash ? await this.apiClients.byKeyHash(hash) : null;
    if (!record || !hash || !kinds.includes(record.kind) || !sameApiKeyHash(record.apiKeySha256, hash)) {
      const error = new OwnerError.Unauthenticated(`X-API-Key of a ${kinds.join(' or ')} required`);
      await this.audit.record({ caller: undefined, action, target: 'credential:api-key', outcome: error.code });
      throw error;
    }
    return { kind: record.kind, clientId: record.clientId };
  }

  /** An MNO when an X-API-Key is sent, else an owner. */
  any(authorization: string | undefined, apiKey: string | undefined, action: string): Promise<Caller> {
    return apiKey !== undefined ? this.client(apiKey, ['mno'], action) : this.owner(authorization, action);
  }
}
