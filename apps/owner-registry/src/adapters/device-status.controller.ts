/**
 * `GET /device-status/{eid}` (docs/owner-registry.md "Device status"): the signed status document of any
 * valid EID, the same bytes as the retained MQTT message; "not registered" (version 0) for an EID the
 * registry does not know. No authentication: the content is signed, and says nothing about the owner.
 * Cheap and write-free (one snapshot read, one signature, no audit row) so the services may ask on every
 * cache miss and a rate limiter in front sees plain idempotent GETs; never cached (a stale copy is a replay).
 */
import { Controller, Get, Header, Inject, Param } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { DEVICE_STATUS_MEDIA_TYPE } from '@rsp/identity';
import type { OwnerRegistry } from '../domain/registry';
import { REGISTRY } from './tokens';

@ApiTags('Device status')
@Controller()
export class DeviceStatusController {
  constructor(@Inject(REGISTRY) private readonly registry: OwnerRegistry) {}

  @Get('device-status/:eid')
  @Header('Content-Type', DEVICE_STATUS_MEDIA_TYPE)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: "A device's signed status (JWS rsp-device-status+jwt, the consent key); version 0 = not registered (anyone)" })
  @ApiParam({ name: 'eid', description: 'EID (32 digits)' })
  @ApiProduces(DEVICE_STATUS_MEDIA_TYPE)
  @ApiResponse({ status: 200, description: 'compact JWS', schema: { type: 'string' } })
  @ApiResponse({ status: 400, description: 'not a valid EID (ERR_OWNER_BAD_REQUEST)' })
  status(@Param('eid') eid: string): Promise<string> {
    return this.registry.statuses.signed(eid);
  }
}
