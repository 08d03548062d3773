/**
 * ES3 over MQTT service requests (docs/services.md "ES3 over MQTT"): one `@MessagePattern` per SGP.02
 * function, `smsr/{smsrId}/es3/{FunctionName}` (es3Pattern of @rsp/contracts). The request data is the
 * ES3 request JSON; the reply is the ES3 response (a Failed status is a normal reply).
 *
 * The requester is PROVEN, not read from the header: the request arrives on `rsp/v1/svc/{caller}/…`, and
 * the broker lets only the SM-DP whose certificate names `caller` publish there (broker-acl.ts). The
 * caller goes to the common frame as the authenticated requester, which refuses a header
 * functionRequesterIdentifier naming anyone else with 1.1 / 1.2 before anything runs (SGP.02 §5.1).
 *
 * The patterns carry the SM-SR id, known only at start, so the controller class is built per instance.
 */
import { Controller, Inject, type Type } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { es3Pattern } from '@rsp/contracts';
import type { RspMqttContext } from '@rsp/mqtt-transport';
import type { FunctionResult } from '../../domain/function-runner';
import type { SmSrService } from '../../domain/sm-sr-service';
import { SMSR_SERVICE } from '../http/auth';

export function es3MqttController(smsrId: string, functionNames: readonly string[]): Type<unknown> {
  @Controller()
  class Es3MqttController {
    constructor(@Inject(SMSR_SERVICE) readonly service: SmSrService) {}
  }
  for (const name of functionNames) {
    const handler = function (this: Es3MqttController, data: unknown, context: RspMqttContext): Promise<FunctionResult> {
      return this.service.call('ES3', name, data, context.getCaller());
    };
    Object.defineProperty(handler, 'name', { value: name });
    Object.defineProperty(Es3MqttController.prototype, name, { value: handler, writable: true, configurable: true });
    const descriptor = Object.getOwnPropertyDescriptor(Es3MqttController.prototype, name) as PropertyDescriptor;
    Payload()(Es3MqttController.prototype, name, 0);
    Ctx()(Es3MqttController.prototype, name, 1);
    MessagePattern(es3Pattern(smsrId, name))(Es3MqttController.prototype, name, descriptor);
  }
  return Es3MqttController;
}
