/**
 * The service-kit lifecycle (issue 10 item 5) on a real Nest application: workers start after every
 * module is built and stop before any resource closes; a factory failing inside NestFactory.create
 * releases what the earlier factories opened (newest first), which Nest alone would leak.
 */
import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { STARTUP_SCOPE, StartupScope, resource, worker } from '../src/lifecycle';

const DATABASE = Symbol('database');
const BROKER = Symbol('broker');
const RELAY = Symbol('relay');

@Module({})
class TestModule {
  static forRoot(scope: StartupScope, events: string[], failBroker = false): DynamicModule {
    return {
      module: TestModule,
      providers: [
        { provide: STARTUP_SCOPE, useValue: scope },
        ...resource({ provide: DATABASE, open: () => (events.push('open database'), 'db'), close: () => void events.push('close database') }),
        ...resource({
          provide: BROKER,
          inject: [DATABASE],
          open: () => {
            if (failBroker) throw new Error('broker unreachable');
            events.push('open broker');
            return 'mqtt';
          },
          close: () => void events.push('close broker'),
        }),
        ...worker({ provide: RELAY, inject: [BROKER], create: () => 'relay', start: () => void events.push('start relay'), stop: () => void events.push('stop relay') }),
      ],
    };
  }
}

describe('service-kit lifecycle', () => {
  it('starts workers last and stops them before closing resources; a second close releases nothing twice', async () => {
    const events: string[] = [];
    const scope = new StartupScope();
    const app = await NestFactory.createApplicationContext(TestModule.forRoot(scope, events), { logger: false, abortOnError: false });
    scope.commit();
    await app.init();
    expect(events).toEqual(['open database', 'open broker', 'start relay']);
    await app.close();
    await app.close();
    expect(events.slice(3)).toEqual(['stop relay', expect.stringMatching(/^close /), expect.stringMatching(/^close /)]);
    expect(events.filter((event) => event.startsWith('close')).sort()).toEqual(['close broker', 'close database']);
  });

  it('releases what was opened when a factory fails inside NestFactory.create', async () => {
    const events: string[] = [];
    const scope = new StartupScope();
    await expect(NestFactory.createApplicationContext(TestModule.forRoot(scope, events, true), { logger: false, abortOnError: false })).rejects.toThrow('broker unreachable');
    await scope.abort();
    expect(events).toEqual(['open database', 'close database']);
    await scope.abort(); // idempotent
    expect(events).toEqual(['open database', 'close database']);
  });

  it('releases nothing through the scope once the application owns its resources', async () => {
    const released: string[] = [];
    const scope = new StartupScope();
    scope.track('db', () => void released.push('db'));
    scope.commit();
    await scope.abort();
    expect(released).toEqual([]);
  });
});
