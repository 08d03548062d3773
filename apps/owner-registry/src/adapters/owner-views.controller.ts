/**
 * Reads for the owner portal (docs/owner-registry.md "Resources"): consents of a device, the operators
 * to pick from, and the device's profiles as the connected operators report them. Same bearer
 * authentication and error style as OwnerController.
 */
import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { OwnerRegistry } from '../domain/registry';
import type { OwnerCaller } from '../domain/context';
import { Owner, OwnerAuth } from './owner-auth.guard';
import { answers, consentList, operatorList, profilesOfDevice, refusals } from './openapi-schemas';
import { REGISTRY } from './tokens';

@ApiTags('Owners')
@ApiBearerAuth('owner-id-token')
@refusals()
@Controller()
export class OwnerViewsController {
  constructor(@Inject(REGISTRY) private readonly registry: OwnerRegistry) {}

  @answers(200, consentList)
  @Get('devices/:eid/consents')
  @ApiOperation({ summary: 'Consents given on the device, newest first, with their state (owner); never the tokens' })
  @OwnerAuth('consent.list')
  async consents(@Owner() caller: OwnerCaller, @Param('eid') eid: string) {
    return { consents: await this.registry.views.consents(caller, eid) };
  }

  @answers(200, profilesOfDevice)
  @Get('devices/:eid/profiles')
  @ApiOperation({ summary: "The device's profiles as each connected operator reports them (ES2 GetEIS; grant holders)" })
  @OwnerAuth('device.profiles.read')
  async profiles(@Owner() caller: OwnerCaller, @Param('eid') eid: string) {
    return this.registry.views.profiles(caller, eid);
  }

  @answers(200, operatorList)
  @Get('operators')
  @ApiOperation({ summary: 'The operators (MNO ids) an owner can give consents to or port to; no credentials' })
  @OwnerAuth('operators.read')
  async operators() {
    return { operators: this.registry.views.operators() };
  }
}
