/**
 * Reads for the owner portal (docs/owner-registry.md "Resources"): consents of a device, the operators
 * to pick from, and the device's profiles as the connected operators report them. Same bearer
 * authentication and error style as OwnerController (kept apart so the @Owner() guard conversion
 * touches one pattern per file).
 */
import { Controller, Get, Headers, Inject, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { OwnerRegistry } from '../domain/registry';
import type { Authenticator } from './authenticator';
import { AUTHENTICATOR, REGISTRY } from './tokens';

@ApiTags('Owners')
@ApiBearerAuth('owner-id-token')
@Controller()
export class OwnerViewsController {
  constructor(
    @Inject(REGISTRY) private readonly registry: OwnerRegistry,
    @Inject(AUTHENTICATOR) private readonly auth: Authenticator,
  ) {}

  @Get('devices/:eid/consents')
  @ApiOperation({ summary: 'Consents given on the device, newest first, with their state (owner); never the tokens' })
  async consents(@Headers('authorization') authorization: string | undefined, @Param('eid') eid: string) {
    return { consents: await this.registry.views.consents(await this.auth.owner(authorization, 'consent.list'), eid) };
  }

  @Get('devices/:eid/profiles')
  @ApiOperation({ summary: "The device's profiles as each connected operator reports them (ES2 GetEIS; grant holders)" })
  async profiles(@Headers('authorization') authorization: string | undefined, @Param('eid') eid: string) {
    return this.registry.views.profiles(await this.auth.owner(authorization, 'device.profiles.read'), eid);
  }

  @Get('operators')
  @ApiOperation({ summary: 'The operators (MNO ids) an owner can give consents to or port to; no credentials' })
  async operators(@Headers('authorization') authorization: string | undefined) {
    await this.auth.owner(authorization, 'operators.read');
    return { operators: this.registry.views.operators() };
  }
}
