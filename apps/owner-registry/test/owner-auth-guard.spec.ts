/**
 * The owner-auth guard (issue 10 item 5) as an attacker meets it: no owner route is left without
 * @OwnerAuth, a guard without a policy refuses instead of letting through, and an MNO's API key stands in
 * for a bearer token only where the handler says so.
 */
import { describe, expect, it } from '@jest/globals';
import type { ExecutionContext } from '@nestjs/common';
import { GUARDS_METADATA, METHOD_METADATA } from '@nestjs/common/constants.js';
import { Reflector } from '@nestjs/core';
import { OwnerController } from '../src/adapters/owner.controller';
import { OwnerViewsController } from '../src/adapters/owner-views.controller';
import { OwnerAuthGuard } from '../src/adapters/owner-auth.guard';
import type { Authenticator } from '../src/adapters/authenticator';

function routeHandlers(controller: { prototype: object }): Array<[string, object]> {
  const prototype = controller.prototype as Record<string, unknown>;
  return Object.getOwnPropertyNames(prototype)
    .filter((name) => name !== 'constructor' && Reflect.getMetadata(METHOD_METADATA, prototype[name] as object) !== undefined)
    .map((name) => [name, prototype[name] as object]);
}

function contextFor(handler: object, headers: Record<string, string>): ExecutionContext {
  const request = { headers };
  return {
    getHandler: () => handler,
    getClass: () => OwnerController,
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
}

/** An authenticator that records which proof the guard asked for. */
function recordingAuthenticator(calls: string[]): Authenticator {
  return {
    owner: async (_authorization: string | undefined, action: string) => { calls.push(`owner:${action}`); return { kind: 'owner', identity: { iss: 'i', sub: 's' } }; },
    any: async (_authorization: string | undefined, apiKey: string | undefined, action: string) => { calls.push(`any:${action}:${apiKey ?? '-'}`); return { kind: 'mno', clientId: 'mno.a' }; },
  } as unknown as Authenticator;
}

describe('OwnerAuthGuard', () => {
  it.each([OwnerController, OwnerViewsController])('guards every route of %p', (controller) => {
    const handlers = routeHandlers(controller);
    expect(handlers.length).toBeGreaterThan(0);
    for (const [name, handler] of handlers) {
      expect([name, Reflect.getMetadata(GUARDS_METADATA, handler)]).toEqual([name, [OwnerAuthGuard]]);
    }
  });

  it('refuses (throws) on a handler that carries the guard but no policy', async () => {
    const guard = new OwnerAuthGuard(recordingAuthenticator([]), new Reflector());
    await expect(guard.canActivate(contextFor(function unguarded() {}, {}))).rejects.toThrow(/without @OwnerAuth/);
  });

  it('ignores an X-API-Key on an owner-only route and accepts one where an MNO may act', async () => {
    const calls: string[] = [];
    const guard = new OwnerAuthGuard(recordingAuthenticator(calls), new Reflector());
    await guard.canActivate(contextFor(OwnerController.prototype.claim, { 'x-api-key': 'mno-key', authorization: 'Bearer t' }));
    await guard.canActivate(contextFor(OwnerController.prototype.suspend, { 'x-api-key': 'mno-key' }));
    expect(calls).toEqual(['owner:device.claim', 'any:device.suspend:mno-key']);
  });
});
