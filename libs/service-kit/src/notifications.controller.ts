/**
 * `GET /mno/notifications` (issue 13; docs/services.md "Notifications to MNOs"): the ES2 / ES4 notifications
 * this service sent, or is still sending, to the calling MNO, read back from the outbox that delivers them
 * (the MQTT copy's destination, `{root}/mno/{mnoId}/{es2|es4}/notify`), newest first, with their delivery
 * state. The same on the SM-DP (ES2) and the SM-SR (ES4); an MNO sees only its own, with its API key.
 */
import { Controller, Get, Headers, HttpException, Inject, Query, type Type } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Outbox } from '@rsp/persistence';
import { provenMno, type MnoOfApiKey } from './http-refusals';

export interface NotificationsControllerOptions {
  outboxToken: string | symbol;
  mnoOfApiKeyToken: string | symbol;
  iface: 'es2' | 'es4';
  /** The outbox destination of the MNO's notifications (the MQTT copy: `mqtt:{root}/mno/{mnoId}/{es2|es4}/notify`). */
  destinationOf: (mnoId: string) => string;
  /** The service's error-code prefix, e.g. `ERR_SMSR`. */
  codePrefix: string;
}

export function notificationsController(options: NotificationsControllerOptions): Type<unknown> {
  @ApiTags(`Notifications (${options.iface.toUpperCase()}, MNO)`)
  @Controller('mno/notifications')
  class NotificationsController {
    constructor(
      @Inject(options.outboxToken) private readonly outbox: Outbox,
      @Inject(options.mnoOfApiKeyToken) private readonly mnoOfApiKey: MnoOfApiKey,
    ) {}

    @Get()
    @ApiOperation({ summary: `The ${options.iface.toUpperCase()} notifications sent to the caller, newest first (?limit=1…200, default 50), with their delivery state` })
    @ApiHeader({ name: 'X-API-Key', required: true })
    async list(@Headers('x-api-key') apiKey: string | undefined, @Query('limit') limit?: string) {
      const mnoId = await provenMno(this.mnoOfApiKey, apiKey, options.codePrefix);
      const count = limit === undefined ? 50 : Number(limit);
      if (!Number.isInteger(count) || count < 1 || count > 200) throw new HttpException({ error: { code: `${options.codePrefix}_BAD_QUERY`, message: 'limit must be an integer in 1…200' } }, 400);
      const messages = await this.outbox.recentTo(options.destinationOf(mnoId), count);
      return {
        notifications: messages.map((message) => ({
          id: message.id,
          interface: options.iface.toUpperCase(),
          createdAt: message.createdAt.toISOString(),
          delivery: message.status,
          ...(message.deliveredAt ? { deliveredAt: message.deliveredAt.toISOString() } : {}),
          notification: message.payload,
        })),
      };
    }
  }
  return NotificationsController;
}
