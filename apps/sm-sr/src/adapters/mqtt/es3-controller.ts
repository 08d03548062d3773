/**
 * ES3 over MQTT service requests (docs/services.md "ES3 over MQTT"): ONE handler for every function,
 * pattern `smsr/{smsrId}/es3/+` (the broker ACL's filter), the SGP.02 name read from the request's pattern
 * (es3Pattern of @rsp/contracts). The request data is the ES3 request JSON; the reply the ES3 response (a
 * Failed status is a normal reply). An unknown name reaches the frame too, which answers it 1.6 / 3.1 as
 * the HTTP interfaces do, instead of leaving the caller to time out.
 *
 * The requester is PROVEN, not read from the header: the request arrives on `rsp/v1/svc/{caller}/…`, and
 * the broker lets only the SM-DP whose certificate names `caller` publish there (broker-acl.ts). The frame
 * refuses a header functionRequesterIdentifier naming anyone else with 1.1 / 1.2 (SGP.02 §5.1). The
 * envelope's deadline bounds how long a repeat of a running call waits.
 *
 * An ES3 call serving a download whose MNO is known (es3-attribution.ts) is recorded in the transaction log
 * under that MNO, with the ES5 / ES8 scripts it runs on the card, by its functionCallIdentifier.
 *
 * The pattern carries the SM-SR id, known only at start, so the controller class is built per instance.
 */
import { Controller, Inject, type Type } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { topicLevel } from '@rsp/contracts';
import type { RspMqttContext } from '@rsp/mqtt-transport';
import type { TransactionLog } from '@rsp/service-kit';
import type { FunctionResult } from '../../domain/function-runner';
import type { SmSrService } from '../../domain/sm-sr-service';
import { SMSR_SERVICE, SMSR_TRANSACTION_LOG } from '../http/auth';
import { Es3Attribution } from './es3-attribution';

export function es3MqttController(smsrId: string): Type<unknown> {
  const attribution = new Es3Attribution();

  @Controller()
  class Es3MqttController {
    constructor(
      @Inject(SMSR_SERVICE) readonly service: SmSrService,
      @Inject(SMSR_TRANSACTION_LOG) readonly transactions: TransactionLog,
    ) {}

    async call(data: unknown, context: RspMqttContext): Promise<FunctionResult> {
      const envelope = context.getEnvelope();
      const functionName = envelope.pattern.slice(envelope.pattern.lastIndexOf('/') + 1);
      const caller = context.getCaller();
      const run = () =>
        this.service.frame.call({
          iface: 'ES3',
          functionName,
          body: data,
          requester: { kind: 'proven', id: caller },
          ...(envelope.deadline !== undefined ? { transportDeadline: envelope.deadline } : {}),
        });
      const mnoId = attribution.mnoOf(caller, functionName, data) ?? (await attribution.recall(caller, functionName, data, (iccid) => this.service.profileOwners(iccid)));
      if (mnoId === undefined) return (await run()).response;
      return (await this.transactions.aroundOnBehalf({ mnoId, functionName, from: 'SM-DP', iface: 'ES3', by: caller }, data, run)).response;
    }
  }
  const descriptor = Object.getOwnPropertyDescriptor(Es3MqttController.prototype, 'call') as PropertyDescriptor;
  Payload()(Es3MqttController.prototype, 'call', 0);
  Ctx()(Es3MqttController.prototype, 'call', 1);
  MessagePattern(`smsr/${topicLevel(smsrId, 'smsrId')}/es3/+`)(Es3MqttController.prototype, 'call', descriptor);
  return Es3MqttController;
}
