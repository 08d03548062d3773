/**
 * The owners' resources (docs/owner-registry.md "Resources"), thin over the domain: authenticate
 * with the bearer ID token, then one use case. Refusals are answered by OwnerHttpExceptionFilter.
 */
import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Patch, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { OwnerRegistry } from '../domain/registry';
import type { Authenticator } from './authenticator';
import { claimBody, consentBody, grantBody, portBody, redeemBody, suspendBody, transferBody } from './openapi-schemas';
import { AUTHENTICATOR, REGISTRY } from './tokens';

@ApiTags('Owners')
@ApiBearerAuth('owner-id-token')
@Controller()
export class OwnerController {
  constructor(
    @Inject(REGISTRY) private readonly registry: OwnerRegistry,
    @Inject(AUTHENTICATOR) private readonly auth: Authenticator,
  ) {}

  @Post('devices/claim')
  @ApiOperation({ summary: 'Claims an unowned device with its claim code; the caller becomes its owner' })
  @ApiBody(claimBody)
  async claim(@Headers('authorization') authorization: string | undefined, @Body() body: unknown) {
    return this.registry.devices.claim(await this.auth.owner(authorization, 'device.claim'), body);
  }

  @Get('me/devices')
  @ApiOperation({ summary: 'Devices the caller holds a grant on (direct or via a group)' })
  async myDevices(@Headers('authorization') authorization: string | undefined) {
    return { devices: await this.registry.devices.listMine(await this.auth.owner(authorization, 'me.devices')) };
  }

  @Get('me/settings-snapshots')
  @ApiOperation({ summary: "Settings exported to the caller's account at a sale" })
  async mySnapshots(@Headers('authorization') authorization: string | undefined) {
    return { snapshots: await this.registry.devices.snapshots(await this.auth.owner(authorization, 'me.snapshots')) };
  }

  @Get('devices/:eid')
  @ApiOperation({ summary: 'A device, its status and grants (grant holders)' })
  async device(@Headers('authorization') authorization: string | undefined, @Param('eid') eid: string) {
    return this.registry.devices.get(await this.auth.owner(authorization, 'device.read'), eid);
  }

  @Get('devices/:eid/audit')
  @ApiOperation({ summary: "The device's audit trail (owner, admin)" })
  async audit(@Headers('authorization') authorization: string | undefined, @Param('eid') eid: string) {
    return { events: await this.registry.devices.trail(await this.auth.owner(authorization, 'device.audit.read'), eid) };
  }

  @Put('devices/:eid/settings')
  @ApiOperation({ summary: "Replaces the device's settings document (owner, admin)" })
  async putSettings(@Headers('authorization') authorization: string | undefined, @Param('eid') eid: string, @Body() body: unknown) {
    return this.registry.devices.putSettings(await this.auth.owner(authorization, 'device.settings'), eid, body);
  }

  @Post('devices/:eid/settings/apply')
  @ApiOperation({ summary: 'Applies a settings snapshot `{ snapshotId }` to a device of the same model' })
  @HttpCode(200)
  async applySettings(@Headers('authorization') authorization: string | undefined, @Param('eid') eid: string, @Body() body: unknown) {
    return this.registry.devices.applySnapshot(await this.auth.owner(authorization, 'device.settings.apply'), eid, body);
  }

  @Post('devices/:eid/grants')
  @ApiOperation({ summary: 'Grants a role (admin | user) on the device to an (iss, sub)' })
  @ApiBody(grantBody)
  async grant(@Headers('authorization') authorization: string | undefined, @Param('eid') eid: string, @Body() body: unknown) {
    return this.registry.sharing.grant(await this.auth.owner(authorization, 'grant.create'), eid, body);
  }

  @Patch('grants/:id')
  @ApiOperation({ summary: "Changes a grant's role `{ role }`" })
  async changeGrant(@Headers('authorization') authorization: string | undefined, @Param('id') id: string, @Body() body: unknown) {
    return this.registry.sharing.changeRole(await this.auth.owner(authorization, 'grant.update'), id, body);
  }

  @Delete('grants/:id')
  @ApiOperation({ summary: "Revokes a grant (never the owner's)" })
  async revokeGrant(@Headers('authorization') authorization: string | undefined, @Param('id') id: string) {
    return this.registry.sharing.revoke(await this.auth.owner(authorization, 'grant.revoke'), id);
  }

  @Post('groups')
  @ApiOperation({ summary: 'Creates a group (household) `{ name }`' })
  async createGroup(@Headers('authorization') authorization: string | undefined, @Body() body: unknown) {
    return this.registry.sharing.createGroup(await this.auth.owner(authorization, 'group.create'), body);
  }

  @Post('groups/:id/members')
  @ApiOperation({ summary: 'Adds a member `{ iss, sub, role }` to a group' })
  async addMember(@Headers('authorization') authorization: string | undefined, @Param('id') id: string, @Body() body: unknown) {
    return this.registry.sharing.addMember(await this.auth.owner(authorization, 'group.member.add'), id, body);
  }

  @Post('groups/:id/devices')
  @ApiOperation({ summary: 'Adds a device `{ eid }` to a group' })
  async addDevice(@Headers('authorization') authorization: string | undefined, @Param('id') id: string, @Body() body: unknown) {
    return this.registry.sharing.addDevice(await this.auth.owner(authorization, 'group.device.add'), id, body);
  }

  @Post('devices/:eid/consents')
  @ApiOperation({ summary: "Mints a consent token (JWS ES256) for an MNO's profile operations" })
  @ApiBody(consentBody)
  async giveConsent(@Headers('authorization') authorization: string | undefined, @Param('eid') eid: string, @Body() body: unknown) {
    return this.registry.consents.give(await this.auth.owner(authorization, 'consent.give'), eid, body);
  }

  @Delete('consents/:jti')
  @ApiOperation({ summary: 'Revokes a consent' })
  async revokeConsent(@Headers('authorization') authorization: string | undefined, @Param('jti') jti: string) {
    return this.registry.consents.revoke(await this.auth.owner(authorization, 'consent.revoke'), jti);
  }

  @Post('devices/:eid/transfers')
  @ApiOperation({ summary: 'Starts a resale: a single-use transfer code (needs step-up, max_age=300)' })
  @ApiBody(transferBody)
  async startTransfer(@Headers('authorization') authorization: string | undefined, @Param('eid') eid: string, @Body() body: unknown) {
    return this.registry.transfers.start(await this.auth.owner(authorization, 'transfer.start'), eid, body);
  }

  @Post('transfers/redeem')
  @ApiOperation({ summary: 'Redeems a transfer code: the caller becomes the owner (one transaction)' })
  @ApiBody(redeemBody)
  @HttpCode(200)
  async redeem(@Headers('authorization') authorization: string | undefined, @Body() body: unknown) {
    return this.registry.transfers.redeem(await this.auth.owner(authorization, 'transfer.redeem'), body);
  }

  @Post('devices/:eid/port')
  @ApiOperation({ summary: 'Ports the subscription with a PAC: download+enable at the recipient, then delete at the donor' })
  @ApiBody(portBody)
  @HttpCode(200)
  async port(@Headers('authorization') authorization: string | undefined, @Param('eid') eid: string, @Body() body: unknown) {
    return this.registry.porting.port(await this.auth.owner(authorization, 'porting.port'), eid, body);
  }

  /** Owner / admin with a bearer token, or an MNO with X-API-Key and a valid consent. */
  @Post('devices/:eid/suspend')
  @ApiOperation({ summary: 'Suspends the device (owner/admin with a bearer token, or an MNO with X-API-Key and a consent)' })
  @ApiBody(suspendBody)
  @ApiSecurity('X-API-Key')
  @ApiHeader({ name: 'X-API-Key', required: false, description: 'An MNO API key (instead of the bearer token)' })
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
  @ApiOperation({ summary: 'Reinstates a suspended device (needs step-up)' })
  @HttpCode(200)
  async reinstate(@Headers('authorization') authorization: string | undefined, @Param('eid') eid: string) {
    return this.registry.quarantine.reinstate(await this.auth.owner(authorization, 'device.reinstate'), eid);
  }
}
