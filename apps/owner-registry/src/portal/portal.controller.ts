/**
 * The owner portal: a static page served by the registry (`GET /portal` + its ES modules and CSS), no
 * build step. The browser does OpenID Connect itself (code + PKCE, public client) and calls the
 * registry API with `Authorization: Bearer <ID token>`; the server side only serves files, with a
 * strict Content-Security-Policy. The controller is built per instance because the page names the
 * IdP (`portalController({ idpIssuer, clientId })`), like es3CallbacksController in the SM-DP.
 */
import { readFileSync } from 'node:fs';
import { Controller, Get, Res, type Type } from '@nestjs/common';
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

export function renderPortalPage(options: PortalOptions): string {
  return readStatic('index.html')
    .replace('{{IDP_ISSUER}}', escapeHtmlAttribute(options.idpIssuer))
    .replace('{{CLIENT_ID}}', escapeHtmlAttribute(options.clientId));
}

export function portalController(options: PortalOptions): Type<unknown> {
  if (!options.clientId) throw new Error('portal.clientId is required');
  const csp = portalContentSecurityPolicy(options.idpIssuer);
  const page = renderPortalPage(options);
  const assets = { app: readStatic('app.js'), oidc: readStatic('oidc.js'), css: readStatic('portal.css') };

  const common = (response: HeaderSink, contentType: string) => {
    response.setHeader('Content-Type', contentType);
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Referrer-Policy', 'no-referrer');
  };
  const asset = (response: HeaderSink, contentType: string, body: string) => {
    common(response, contentType);
    response.setHeader('Cache-Control', 'no-cache');
    return body;
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

    @Get('app.js')
    app(@Res({ passthrough: true }) response: HeaderSink): string {
      return asset(response, 'text/javascript; charset=utf-8', assets.app);
    }

    @Get('oidc.js')
    oidc(@Res({ passthrough: true }) response: HeaderSink): string {
      return asset(response, 'text/javascript; charset=utf-8', assets.oidc);
    }

    @Get('portal.css')
    css(@Res({ passthrough: true }) response: HeaderSink): string {
      return asset(response, 'text/css; charset=utf-8', assets.css);
    }
  }
  return PortalController;
}
