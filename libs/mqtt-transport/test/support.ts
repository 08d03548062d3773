/**
 * Test fixtures: a Nest microservice on RspMqttServer with an injected service (proves SWC emits the
 * decorator metadata Nest's DI needs), counting handler runs.
 */
import 'reflect-metadata';
import { Controller, Injectable, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, MessagePattern, Payload, type MicroserviceOptions } from '@nestjs/microservices';
import { of, type Observable } from 'rxjs';
import { RspError } from '@rsp/errors';
import { RspMqttServer, RspRpcExceptionFilter, type RspMqttContext, type RspMqttServerOptions } from '../src/index';

export class TestDomainError extends RspError {
  static override readonly code = 'ERR_TEST_DOMAIN';
}

@Injectable()
export class EchoService {
  readonly name = 'echo-service';
  runs = 0;
  readonly events: unknown[] = [];
  echo(data: { n: number; tag: string }): { n: number; tag: string; by: string } {
    return { n: data.n, tag: data.tag, by: this.name };
  }
}

@Controller()
export class EchoController {
  constructor(private readonly service: EchoService) {}

  @MessagePattern('test/echo')
  echo(@Payload() data: { n: number; tag: string }): { n: number; tag: string; by: string } {
    return this.service.echo(data);
  }

  @MessagePattern('test/count')
  count(): { runs: number } {
    this.service.runs += 1;
    return { runs: this.service.runs };
  }

  @MessagePattern('test/fail')
  fail(): never {
    throw new TestDomainError('the card refused the profile');
  }

  @MessagePattern('test/crash')
  async crash(): Promise<never> {
    throw new Error('ENOENT /secret/path/keys.pem');
  }

  @MessagePattern('test/stream')
  stream(): Observable<number> {
    return of(1, 2, 3);
  }

  @MessagePattern('test/whoami')
  whoami(@Ctx() context: RspMqttContext): { caller: string } {
    return { caller: context.getCaller() };
  }

  @EventPattern('test/event')
  onEvent(@Payload() data: unknown): void {
    this.service.events.push(data);
  }
}

@Module({ controllers: [EchoController], providers: [EchoService] })
export class AppModule {}

export interface RunningApp {
  app: INestMicroservice;
  server: RspMqttServer;
  service: EchoService;
}

/** A server on its own anonymous connection: these are transport tests on an insecure test broker. */
export async function startApp(options: RspMqttServerOptions): Promise<RunningApp> {
  const server = new RspMqttServer({ allowAnonymous: true, ...options });
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(AppModule, { strategy: server, logger: false });
  app.useGlobalFilters(new RspRpcExceptionFilter());
  await app.listen();
  return { app, server, service: app.get(EchoService) };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}
