/**
 * The dev IdP's own login and consent interactions (oidc-provider's devInteractions are disabled):
 * `GET /interaction/{uid}` shows a username/password form (login prompt) or grants consent at once
 * (consent prompt); `POST /interaction/{uid}/login` checks the password (= the user name) and
 * finishes the login with `amr: ['pwd']`. Development only: never a production login page.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { InteractionDetails } from 'oidc-provider';
import { STEP_UP_ACR } from '@rsp/identity';

/** Authentication context class of a plain password login at the dev IdP. */
export const PASSWORD_ACR = 'urn:rsp:acr:password';

const INTERACTION_PATH = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/;

/** True when the request is one of ours (the rest goes to the provider). */
export function isInteractionRequest(path: string): boolean {
  return INTERACTION_PATH.test(path);
}

/** Handles an interaction request; `users` are the known user names (password = user name). */
export async function handleInteraction(
  provider: Provider,
  users: ReadonlySet<string>,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const match = INTERACTION_PATH.exec(path);
  const uid = match?.[1];
  let details: InteractionDetails;
  try {
    details = await provider.interactionDetails(req, res);
  } catch {
    return sendText(res, 400, 'Interaction session not found or expired: start the sign-in again.');
  }
  if (details.uid !== uid) return sendText(res, 400, 'Interaction mismatch: start the sign-in again.');

  if (req.method === 'GET' && match?.[2] === undefined) {
    if (details.prompt.name === 'login') return sendLoginForm(res, details, undefined);
    if (details.prompt.name === 'consent') return grantConsent(provider, details, req, res);
    return sendText(res, 400, `Unsupported prompt ${details.prompt.name}`);
  }
  if (req.method === 'POST' && match?.[2] === '/login') {
    if (details.prompt.name !== 'login') return sendText(res, 400, 'No login expected here');
    const form = new URLSearchParams(await readBody(req));
    const username = form.get('username') ?? '';
    const password = form.get('password') ?? '';
    if (!users.has(username) || password !== username) {
      return sendLoginForm(res, details, 'Unknown user or wrong password', 401);
    }
    // Asked for step-up (acr_values) → a password login here counts as one (dev IdP only).
    const requestedAcr = typeof details.params.acr_values === 'string' ? details.params.acr_values.split(' ') : [];
    const acr = requestedAcr.includes(STEP_UP_ACR) ? STEP_UP_ACR : PASSWORD_ACR;
    const login = { accountId: username, acr, amr: ['pwd'], remember: true };
    return provider.interactionFinished(req, res, { login }, { mergeWithLastSubmission: false });
  }
  return sendText(res, 405, 'Method not allowed');
}

/** Consent is implied at the dev IdP: grant what the prompt says is missing and resume. */
async function grantConsent(
  provider: Provider,
  details: InteractionDetails,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const accountId = details.session?.accountId;
  const clientId = details.params.client_id;
  if (accountId === undefined || typeof clientId !== 'string') return sendText(res, 400, 'No session to consent for');
  const existing = details.grantId === undefined ? undefined : await provider.Grant.find(details.grantId);
  const grant = existing ?? new provider.Grant({ accountId, clientId });
  const missing = details.prompt.details;
  const missingScope = Array.isArray(missing.missingOIDCScope) ? (missing.missingOIDCScope as string[]) : ['openid'];
  grant.addOIDCScope(missingScope.join(' '));
  if (Array.isArray(missing.missingOIDCClaims)) grant.addOIDCClaims(missing.missingOIDCClaims as string[]);
  const resourceScopes = missing.missingResourceScopes;
  if (typeof resourceScopes === 'object' && resourceScopes !== null) {
    for (const [indicator, scopes] of Object.entries(resourceScopes as Record<string, string[]>)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  const grantId = await grant.save();
  const consent = existing === undefined ? { grantId } : {};
  return provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
}

function sendLoginForm(res: ServerResponse, details: InteractionDetails, error: string | undefined, status = 200): void {
  const clientId = typeof details.params.client_id === 'string' ? details.params.client_id : '';
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>Dev IdP sign-in</title></head>
<body>
<h1>Dev IdP sign-in</h1>
<p>Client: ${escapeHtml(clientId)}. Users: alice / alice, bob / bob (development only).</p>
${error === undefined ? '' : `<p role="alert">${escapeHtml(error)}</p>`}
<form method="post" action="/interaction/${escapeHtml(details.uid)}/login">
<label>User <input name="username" autocomplete="username" autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form>
</body></html>`;
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(html);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(text);
}

async function readBody(req: IncomingMessage, limit = 16 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
