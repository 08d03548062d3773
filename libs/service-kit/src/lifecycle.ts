/**
 * Nest lifecycle for what a service opens in its factory providers (issue 10 item 5): no closers array per
 * app. Each resource is a factory provider with a companion provider whose hook releases it, so
 * `app.close()` (or `enableShutdownHooks` on a signal) is the whole shutdown.
 *
 * Nest's shutdown sequence (NestApplicationContext.runShutdownSequence): `onModuleDestroy` hooks, then
 * `beforeApplicationShutdown`, then the HTTP server and the microservices close (dispose), then
 * `onApplicationShutdown`. Within a phase Nest calls dependents before what they depend on (hierarchy
 * levels, DESC). So:
 * - background work (outbox relays, listeners) starts in `onApplicationBootstrap` and stops in
 *   `onModuleDestroy` ({@link worker}), while every connection it may still use is open;
 * - connections (MQTT, the database) close in `onApplicationShutdown` ({@link resource}), once the HTTP
 *   server and the MQTT request server take no more requests.
 *
 * One gap Nest leaves: when a factory fails inside `NestFactory.create`, there is no application to close,
 * and what earlier factories opened would leak. {@link StartupScope} covers exactly that window.
 */
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleDestroy, type Provider } from '@nestjs/common';

export type Token = string | symbol;

/** Resources opened while `NestFactory.create` runs; released only if it fails (then nothing else can). */
export class StartupScope {
  private pending: Array<() => Promise<unknown> | unknown> | undefined = [];

  /** Remembers how to release `value` should the start fail before Nest owns it. */
  track<T>(value: T, release: (value: T) => Promise<unknown> | unknown): T {
    this.pending?.push(() => release(value));
    return value;
  }

  /** The application exists: from now on its shutdown hooks release everything. */
  commit(): void {
    this.pending = undefined;
  }

  /** The start failed inside `NestFactory.create`: releases what was opened, newest first. */
  async abort(): Promise<void> {
    const pending = this.pending ?? [];
    this.pending = undefined;
    for (const release of pending.reverse()) await Promise.resolve().then(release).catch(() => undefined);
  }
}

/** The provider token of the {@link StartupScope} of one start. */
export const STARTUP_SCOPE = Symbol('StartupScope');

function named<T extends abstract new (...args: never[]) => unknown>(type: T, name: string): T {
  Object.defineProperty(type, 'name', { value: name });
  return type;
}

const describeToken = (token: Token): string => (typeof token === 'symbol' ? (token.description ?? 'resource') : token);

// Nest's factory signature is untyped (`inject` lists tokens); each caller types its own `open`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Factory<T> = (...dependencies: any[]) => Promise<T> | T;

/**
 * A connection-like resource: opened by a factory provider (awaited by Nest before its dependents are
 * built), released in `onApplicationShutdown`, and by the {@link StartupScope} if the start fails.
 */
export function resource<T>(definition: { provide: Token; inject?: Token[]; open: Factory<T>; close: (value: T) => Promise<unknown> | unknown }): Provider[] {
  @Injectable()
  class CloseOnShutdown implements OnApplicationShutdown {
    private closed = false;
    constructor(@Inject(definition.provide) private readonly value: T) {}
    async onApplicationShutdown(): Promise<void> {
      if (this.closed) return; // a second app.close() finds it released
      this.closed = true;
      await definition.close(this.value);
    }
  }
  return [
    {
      provide: definition.provide,
      inject: [STARTUP_SCOPE, ...(definition.inject ?? [])],
      useFactory: async (scope: StartupScope, ...dependencies: unknown[]) => scope.track(await definition.open(...dependencies), definition.close),
    },
    named(CloseOnShutdown, `CloseOnShutdown(${describeToken(definition.provide)})`),
  ];
}

/**
 * Background work (a poll loop, a listener): built by a factory provider, started in
 * `onApplicationBootstrap` (every module initialised) and stopped in `onModuleDestroy`, first in the shutdown.
 */
export function worker<T>(definition: {
  provide: Token;
  inject?: Token[];
  create: Factory<T>;
  start?: (value: T) => Promise<unknown> | unknown;
  stop: (value: T) => Promise<unknown> | unknown;
}): Provider[] {
  @Injectable()
  class RunWhileUp implements OnApplicationBootstrap, OnModuleDestroy {
    private stopped = false;
    constructor(@Inject(definition.provide) private readonly value: T) {}
    async onApplicationBootstrap(): Promise<void> {
      await definition.start?.(this.value);
    }
    async onModuleDestroy(): Promise<void> {
      if (this.stopped) return; // a second app.close() finds it stopped
      this.stopped = true;
      await definition.stop(this.value); // stop() of a never started worker is a no-op
    }
  }
  return [
    { provide: definition.provide, inject: definition.inject ?? [], useFactory: definition.create },
    named(RunWhileUp, `RunWhileUp(${describeToken(definition.provide)})`),
  ];
}
