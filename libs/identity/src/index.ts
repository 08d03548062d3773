/**
 * @packageDocumentation
 * `@rsp/identity`: who is asking, as pure code (jose; no NestJS, HTTP server or database).
 *
 * - OpenID Connect ID tokens from trusted issuers (discovery + JWKS), owners as `(iss, sub)`, step-up.
 * - Owner consent tokens (registry → MNO → SM-DP / SM-SR) and the signed device status document the
 *   services verify, keep ({@link VerifiedDeviceStatusCache}) and enforce, failing closed. The HTTP
 *   source of a missing status is the one adapter here. Design: docs/owner-registry.md.
 */
export * from './errors';
export * from './oidc';
export * from './step-up';
export * from './consent';
export * from './device-status';
export * from './owner-operations';
export * from './api-key';
export * from './signed-device-status';
export * from './verified-device-status-cache';
export * from './device-status-source';
