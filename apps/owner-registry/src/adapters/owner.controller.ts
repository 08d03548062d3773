/**
 * The owners' resources (docs/owner-registry.md "Resources"), thin over the domain: authenticate
 * with the bearer ID token, then one use case. Refusals are answered by OwnerHttpExceptionFilter.
 */
import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Patch, Post, Put } from '@nestjs/common';
import type { OwnerRegistry } from '../domain/registry';
import type { Authenticator } from './authenticator';
import { AUTHENTICATOR, REGISTRY } from './tokens';

@Controller()
export class OwnerController {
  constructor(
    @Inject(REGISTRY) private readonly registry: OwnerRegistry,
    @Inject(AUTHENTICATOR) private readonly auth: Authenticator,
  ) {}

  @Post('devices/claim')
  async claim(@Headers('authorization') authorization: string | undefined, @Body() body: unknown) {
    return this.registry.devices.claim(await this.auth.owner(authorization, 'device.claim'), body);
  }

  @Get('me/devices')
  async myDevices(@Headers('authorization') authorization: string | undefined) {
    return { devices: await this.registry.devices.listMine(await this.auth.owner(authorization, 'me.devices')) };
  }

  @Get('me/settings-snapshots')
  async mySnapshots(@Headers('authorization') authorization: string | undefined) {
    return { snapshots: await this.registry.devices.snapshots(await this.auth.owner(authorization, 'me.snapshots')) };
  }

  @Get('devices/:eid')
  async device(@Headers('authorization') authorization: string | undefined, @Param('eid') eid: string) {
    return this.registry.devices.get(await this.auth.owner(authorization, 'device.read'), eid);
  }

  @Get('devices/:eid/audit')
  async audit(@Headers('authorization') authorization: string | undefined, @Param('eid') eid: string) {
    return { events: await this.registry.devices.trail(await this.auth.owner(authorization, 'device.audit.read'), eid) };
  }

  @Put('devices/:eid/settings')
  async putSettings(@Headers('authorization') authorization: string | undefined, @Param('eid') eid: string, @Body() body: unknown) {
    return this.registry.devices.putSettings(await this.auth.owner(authorization, 'device.settings'), eid, body);
  }

  @Post('devices/:eid/settings/apply')
  @HttpCode(200)
  async applySettings(@Headers('authorization') authorization: string | undefined, @Param('eid') eid: string, @Body() body: unknown) {
    return this.registry.devices.applySnapshot(await this.auth.owner(authorization, 'device.settings.apply'), eid, body);
  }

  @Post('devices/:eid/grants')
  async grant(@Headers('authorization') authorization: string | undefined, @Param('eid') eid: string, @Body() body: unknown) {
    return this.registry.sharing.grant(await this.auth.owner(authorization, 'grant.create'), eid, body);
  }

  @Patch('grants/:id')
  async changeGrant(@Headers('authorization') authorization: string | undefined, @Param('id') id: string, @Body() body: unknown) {
    return this.registry.sharing.changeRole(await this.auth.owner(authorization, 'grant.update'), id, body);
  }

  @Delete('grants/:id')
  async revokeGrant(@Headers('authorization') authorization: string | undefined, @Param('id') id: string) {
    return this.registry.sharing.revoke(await this.auth.owner(authorization, 'grant.revoke'), id);
  }

  @Post('groups')
  async createGroup(@Headers('authorization') authorization: string | undefined, @Body() body: unknown) {
    return this.registry.sharing.createGroup(await this.auth.owner(authorization, 'group.create'), body);
  }

  @Post('groups/:id/members')
  async addMember(@Headers('authorization') authorization: string | undefined, @Param('id') id: string, @Body() body: unknown) {
    return this.registry.sharing.addMember(await this.auth.owner(authorization, 'group.member.add'), id, body);
  }

  @Post('groups/:id/devices')
  async addDevice(@Headers('authorization') authorization: string | undefined, @Param('id') id: string, @Body() body: unknown) {
    return this.registry.sharing.addDevice(await this.auth.owner(authorization, 'group.device.add'), id, body);
  }

  @Post('devices/:eid/consents')
  async giveConsent(@Headers('authorization') authorization: string | undefined, @Param('eid') eid: string, @Body() body: unknown) {
    return this.registry.consents.give(await this.auth.owner(authorization, 'consent.give'), eid, body);
  }

  @Delete('consents/:jti')
  async revokeConsent(@Headers('authorization') authorization: string | undefined, @Param('jti') jti: string) {
    return this.registry.consents.revoke(await this.auth.owner(authorization, 'consent.revoke'), jti);
  }

  @Post('devices/:eid/transfers')
  async startTransfer(@Headers('authorization') authorization: string | undefined, @Param('eid') eid: string, @Body() body: unknown) {
    return this.registry.transfers.start(await this.auth.owner(authorization, 'transfer.start'), eid, body);
  }

  @Post('transfers/redeem')
  @HttpCode(200)
  async redeem(@Headers('authorization') authorization: string | undefined, @Body() body: unknown) {
    return this.registry.transfers.redeem(await this.auth.owner(authorization, 'transfer.redeem'), body);
  }

  @Post('devices/:eid/port')
  @HttpCode(200)
  async port(@Headers('authorization') authorization: string | undefined, @Param('eid') eid: string, @Body() body: unknown) {
    return this.registry.porting.port(await this.auth.owner(authorization, 'porting.port'), eid, body);
  }

  /** Owner / admin with a bearer token, or an MNO with X-API-Key and a valid consent. */
  @Post('devices/:eid/suspend')
  @HttpCode(200)
  async suspend(
    @Headers('authorization') authorization: string | undefined,
    @Headers('x-api-key') apiKey: string | undefined,
    @Param('eid') eid: string,
    @Body() body: unknown,
  ) {
    return this.registry.quarantine.suspend(await this.auth.any(authorization, apiKey, 'device.suspend'), eid, body);
  }

  @Post('devices/:eid/reinstate')
  @HttpCode(200)
  async reinstate(@Headers('authorization') authorization: string | undefined, @Param('eid') eid: string) {
    return this.registry.quarantine.reinstate(await this.auth.owner(authorization, 'device.reinstate'), eid);
  }
}
