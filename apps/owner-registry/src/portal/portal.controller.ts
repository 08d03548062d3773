/**
 * The owner portal: a static page served by the registry (`GET /portal` + its ES modules and CSS), no
 * build step. The browser does OpenID Connect itself (code + PKCE, public client) and calls the
 * registry API with `Authorization: Bearer <ID token>`; the server side only serves files, with a
 * strict Content-Security-Policy. The controller is built per instance because the page names the
 * IdP (`portalController({ idpIssuer, clientId })`), like es3CallbacksController in the SM-DP.
 */
import { readFileSync } from 'node:fs';
import { Controller, Get, NotFoundException, Param, Res, type Type } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';

export interface PortalOptions {
  /** The OpenID Provider the portal signs in with (exactly its `issuer`). */
  idpIssuer: string;
  /** The public client registered at that IdP (`owner-portal`), redirect URI `{registry}/portal`. */
  clientId: string;
}

/** The bit of Express's response used here (no @types/express in this repo). */
interface HeaderSink {
  setHeader(name: string, value: string): unknown;
}

const readStatic = (name: string): string => readFileSync(new URL(`./static/${name}`, import.meta.url), 'utf8');

const escapeHtmlAttribute = (value: string): string =>
  value.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] as string);

/** Origin of the IdP for connect-src (discovery + token endpoint fetches); refuses anything but http(s). */
function idpOrigin(issuer: string): string {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new Error('portal.idpIssuer must be an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('portal.idpIssuer must be an http(s) URL');
  return url.origin;
}

/**
 * CSP Level 3. No inline script or style; the only cross-origin fetch is the IdP (discovery, token
 * endpoint). Forms never submit natively (JavaScript handles them), hence form-action 'none'; the
 * sign-in is a top-level navigation, which CSP does not restrict.
 */
export function portalContentSecurityPolicy(idpIssuer: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `connect-src 'self' ${idpOrigin(idpIssuer)}`,
    "form-action 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ');
}

/** The page's ES modules (app.js imports the others). */
const PORTAL_MODULES = ['app.js', 'api.js', 'dom.js', 'manage.js', 'oidc.js'];

export function renderPortalPage(options: PortalOptions): string {
  return readStatic('index.html')
    .replace('{{IDP_ISSUER}}', escapeHtmlAttribute(options.idpIssuer))
    .replace('{{CLIENT_ID}}', escapeHtmlAttribute(options.clientId));
}

export function portalController(options: PortalOptions): Type<unknown> {
  if (!options.clientId) throw new Error('portal.clientId is required');
  const csp = portalContentSecurityPolicy(options.idpIssuer);
  const page = renderPortalPage(options);
  // A fixed allow-list read once at start: no path from the request ever reaches the file system.
  const assets = new Map<string, { body: string; type: string }>(
    [...PORTAL_MODULES.map((name) => [name, 'text/javascript; charset=utf-8'] as const), ['portal.css', 'text/css; charset=utf-8'] as const].map(([name, type]) => [name, { body: readStatic(name), type }]),
  );

  const common = (response: HeaderSink, contentType: string) => {
    response.setHeader('Content-Type', contentType);
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Referrer-Policy', 'no-referrer');
  };

  @ApiExcludeController()
  @Controller('portal')
  class PortalController {
    /** The page; also the redirect URI (`?code=&state=` is handled by app.js). */
    @Get()
    page(@Res({ passthrough: true }) response: HeaderSink): string {
      common(response, 'text/html; charset=utf-8');
      response.setHeader('Content-Security-Policy', csp);
      response.setHeader('X-Frame-Options', 'DENY');
      response.setHeader('Cache-Control', 'no-store');
      return page;
    }

    @Get(':file')
    asset(@Param('file') file: string, @Res({ passthrough: true }) response: HeaderSink): string {
      const found = assets.get(file);
      if (!found) throw new NotFoundException();
      common(response, found.type);
      response.setHeader('Cache-Control', 'no-cache');
      return found.body;
    }
  }
  return PortalController;
}
