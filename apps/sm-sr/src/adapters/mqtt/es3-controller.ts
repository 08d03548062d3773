/**
 * ES3 over MQTT service requests (docs/services.md "ES3 over MQTT"): one `@MessagePattern` per SGP.02
 * function, `smsr/{smsrId}/es3/{FunctionName}`. The request data is the ES3 request JSON; the reply is
 * the ES3 response (a Failed status is a normal reply). The requester is the header's
 * functionRequesterIdentifier: on the broker, publishing to `…/svc/smsr/{smsrId}/es3/#` is restricted
 * by ACL to the SM-DPs (docs/topics.md "Security") [U: no per-message authentication in this binding].
 *
 * The patterns carry the SM-SR id, known only at start, so the controller class is built per instance.
 */
import { Controller, Inject, type Type } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { FunctionResult } from '../../domain/function-runner';
import type { SmSrService } from '../../domain/sm-sr-service';
import { SMSR_SERVICE } from '../http/auth';

export const es3Pattern = (smsrId: string, functionName: string) => `smsr/${smsrId}/es3/${functionName}`;

export function es3MqttController(smsrId: string, functionNames: readonly string[]): Type<unknown> {
  @Controller()
  class Es3MqttController {
    constructor(@Inject(SMSR_SERVICE) readonly service: SmSrService) {}
  }
  for (const name of functionNames) {
    const handler = function (this: Es3MqttController, data: unknown): Promise<FunctionResult> {
      return this.service.call('ES3', name, data);
    };
    Object.defineProperty(handler, 'name', { value: name });
    Object.defineProperty(Es3MqttController.prototype, name, { value: handler, writable: true, configurable: true });
    const descriptor = Object.getOwnPropertyDescriptor(Es3MqttController.prototype, name) as PropertyDescriptor;
    Payload()(Es3MqttController.prototype, name, 0);
    MessagePattern(es3Pattern(smsrId, name))(Es3MqttController.prototype, name, descriptor);
  }
  return Es3MqttController;
}
