/**
 * ES3 callbacks SM-SR → SM-DP (SGP.02 §5.4 Handle*Notification) as MQTT service requests on
 * `smdp/{smdpId}/es3/{FunctionName}` (es3CallbackPattern, docs/services.md). The pattern names this SM-DP,
 * so the controller class is built per instance. A refusal is a normal reply with a Failed status. Only an
 * SM-SR identity may publish callbacks, under its own name (broker-acl.ts).
 */
import { Controller, Inject, UseFilters, type Type } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { es3CallbackPattern, toExecutionStatus, type FunctionResponse } from '@rsp/contracts';
import { RspRpcExceptionFilter } from '@rsp/mqtt-transport';
import type { Notifier, ProfileNotification } from '../domain/notifier';
import { NOTIFIER } from './tokens';

export function es3CallbacksController(smdpId: string): Type<unknown> {
  const pattern = (fn: ProfileNotification) => es3CallbackPattern(smdpId, fn);

  // Its own filter: the app's global one answers HTTP (ES2) and would not fit an RSP service reply.
  @Controller()
  @UseFilters(new RspRpcExceptionFilter())
  class Es3CallbacksController {
    constructor(@Inject(NOTIFIER) private readonly notifier: Notifier) {}

    private async handle(fn: ProfileNotification, data: unknown): Promise<FunctionResponse> {
      try {
        return await this.notifier.handleEs3Notification(fn, data);
      } catch (error) {
        return { header: { functionExecutionStatus: toExecutionStatus(error) } };
      }
    }

    @MessagePattern(pattern('HandleProfileEnabledNotification'))
    enabled(@Payload() data: unknown) {
      return this.handle('HandleProfileEnabledNotification', data);
    }

    @MessagePattern(pattern('HandleProfileDisabledNotification'))
    disabled(@Payload() data: unknown) {
      return this.handle('HandleProfileDisabledNotification', data);
    }

    @MessagePattern(pattern('HandleProfileDeletedNotification'))
    deleted(@Payload() data: unknown) {
      return this.handle('HandleProfileDeletedNotification', data);
    }
  }
  return Es3CallbacksController;
}
