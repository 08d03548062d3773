/**
 * The owners' resources (docs/owner-registry.md "Resources"), thin over the domain: @OwnerAuth proves
 * the bearer ID token before the handler runs, then one use case. Refusals are answered by OwnerHttpExceptionFilter.
 */
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { OwnerRegistry } from '../domain/registry';
import type { Caller, OwnerCaller } from '../domain/context';
import { answers, applySnapshotBody, auditTrail, claimBody, consentBody, consentMinted, consentRevoked, deviceDetail, deviceList, deviceView, grantBody, grantView, groupBody, groupDevice, groupDeviceBody, groupView, memberBody, portBody, portResult, redeemBody, redeemed, refusals, revokedGrant, roleBody, settingsBody, settingsView, snapshotList, statusChanged, suspendBody, transferBody, transferStarted } from './openapi-schemas';
import { Owner, OwnerAuth } from './owner-auth.guard';
import { REGISTRY } from './tokens';

@ApiTags('Owners')
@ApiBearerAuth('owner-id-token')
@refusals()
@Controller()
export class OwnerController {
  constructor(@Inject(REGISTRY) private readonly registry: OwnerRegistry) {}

  @answers(201, deviceView)
  @Post('devices/claim')
  @ApiOperation({ summary: 'Claims an unowned device with its claim code; the caller becomes its owner' })
  @ApiBody(claimBody)
  @OwnerAuth('device.claim')
  async claim(@Owner() caller: OwnerCaller, @Body() body: unknown) {
    return this.registry.devices.claim(caller, body);
  }

  @answers(200, deviceList)
  @Get('me/devices')
  @ApiOperation({ summary: 'Devices the caller holds a grant on (direct or via a group)' })
  @OwnerAuth('me.devices')
  async myDevices(@Owner() caller: OwnerCaller) {
    return { devices: await this.registry.devices.listMine(caller) };
  }

  @answers(200, snapshotList)
  @Get('me/settings-snapshots')
  @ApiOperation({ summary: "Settings exported to the caller's account at a sale" })
  @OwnerAuth('me.snapshots')
  async mySnapshots(@Owner() caller: OwnerCaller) {
    return { snapshots: await this.registry.devices.snapshots(caller) };
  }

  @answers(200, deviceDetail)
  @Get('devices/:eid')
  @ApiOperation({ summary: 'A device, its status and grants (grant holders)' })
  @OwnerAuth('device.read')
  async device(@Owner() caller: OwnerCaller, @Param('eid') eid: string) {
    return this.registry.devices.get(caller, eid);
  }

  @answers(200, auditTrail)
  @Get('devices/:eid/audit')
  @ApiOperation({ summary: "The device's audit trail (owner, admin)" })
  @OwnerAuth('device.audit.read')
  async audit(@Owner() caller: OwnerCaller, @Param('eid') eid: string) {
    return { events: await this.registry.devices.trail(caller, eid) };
  }

  @answers(200, settingsView)
  @ApiBody(settingsBody)
  @Put('devices/:eid/settings')
  @ApiOperation({ summary: "Replaces the device's settings document (owner, admin)" })
  @OwnerAuth('device.settings')
  async putSettings(@Owner() caller: OwnerCaller, @Param('eid') eid: string, @Body() body: unknown) {
    return this.registry.devices.putSettings(caller, eid, body);
  }

  @answers(200, settingsView)
  @ApiBody(applySnapshotBody)
  @Post('devices/:eid/settings/apply')
  @ApiOperation({ summary: 'Applies a settings snapshot `{ snapshotId }` to a device of the same model' })
  @HttpCode(200)
  @OwnerAuth('device.settings.apply')
  async applySettings(@Owner() caller: OwnerCaller, @Param('eid') eid: string, @Body() body: unknown) {
    return this.registry.devices.applySnapshot(caller, eid, body);
  }

  @answers(201, grantView)
  @Post('devices/:eid/grants')
  @ApiOperation({ summary: 'Grants a role (admin | user) on the device to an (iss, sub)' })
  @ApiBody(grantBody)
  @OwnerAuth('grant.create')
  async grant(@Owner() caller: OwnerCaller, @Param('eid') eid: string, @Body() body: unknown) {
    return this.registry.sharing.grant(caller, eid, body);
  }

  @answers(200, grantView)
  @ApiBody(roleBody)
  @Patch('grants/:id')
  @ApiOperation({ summary: "Changes a grant's role `{ role }`" })
  @OwnerAuth('grant.update')
  async changeGrant(@Owner() caller: OwnerCaller, @Param('id') id: string, @Body() body: unknown) {
    return this.registry.sharing.changeRole(caller, id, body);
  }

  @answers(200, revokedGrant)
  @Delete('grants/:id')
  @ApiOperation({ summary: "Revokes a grant (never the owner's)" })
  @OwnerAuth('grant.revoke')
  async revokeGrant(@Owner() caller: OwnerCaller, @Param('id') id: string) {
    return this.registry.sharing.revoke(caller, id);
  }

  @answers(201, groupView)
  @ApiBody(groupBody)
  @Post('groups')
  @ApiOperation({ summary: 'Creates a group (household) `{ name }`' })
  @OwnerAuth('group.create')
  async createGroup(@Owner() caller: OwnerCaller, @Body() body: unknown) {
    return this.registry.sharing.createGroup(caller, body);
  }

  @answers(201, grantView)
  @ApiBody(memberBody)
  @Post('groups/:id/members')
  @ApiOperation({ summary: 'Adds a member `{ iss, sub, role }` to a group' })
  @OwnerAuth('group.member.add')
  async addMember(@Owner() caller: OwnerCaller, @Param('id') id: string, @Body() body: unknown) {
    return this.registry.sharing.addMember(caller, id, body);
  }

  @answers(201, groupDevice)
  @ApiBody(groupDeviceBody)
  @Post('groups/:id/devices')
  @ApiOperation({ summary: 'Adds a device `{ eid }` to a group' })
  @OwnerAuth('group.device.add')
  async addDevice(@Owner() caller: OwnerCaller, @Param('id') id: string, @Body() body: unknown) {
    return this.registry.sharing.addDevice(caller, id, body);
  }

  @answers(201, consentMinted)
  @Post('devices/:eid/consents')
  @ApiOperation({ summary: "Mints a consent token (JWS ES256) for an MNO's profile operations" })
  @ApiBody(consentBody)
  @OwnerAuth('consent.give')
  async giveConsent(@Owner() caller: OwnerCaller, @Param('eid') eid: string, @Body() body: unknown) {
    return this.registry.consents.give(caller, eid, body);
  }

  @answers(200, consentRevoked)
  @Delete('consents/:jti')
  @ApiOperation({ summary: 'Revokes a consent' })
  @OwnerAuth('consent.revoke')
  async revokeConsent(@Owner() caller: OwnerCaller, @Param('jti') jti: string) {
    return this.registry.consents.revoke(caller, jti);
  }

  @answers(201, transferStarted)
  @Post('devices/:eid/transfers')
  @ApiOperation({ summary: 'Starts a resale: a single-use transfer code (needs step-up, max_age=300)' })
  @ApiBody(transferBody)
  @OwnerAuth('transfer.start')
  async startTransfer(@Owner() caller: OwnerCaller, @Param('eid') eid: string, @Body() body: unknown) {
    return this.registry.transfers.start(caller, eid, body);
  }

  @answers(200, redeemed)
  @Post('transfers/redeem')
  @ApiOperation({ summary: 'Redeems a transfer code: the caller becomes the owner (one transaction)' })
  @ApiBody(redeemBody)
  @HttpCode(200)
  @OwnerAuth('transfer.redeem')
  async redeem(@Owner() caller: OwnerCaller, @Body() body: unknown) {
    return this.registry.transfers.redeem(caller, body);
  }

  @answers(200, portResult)
  @Post('devices/:eid/port')
  @ApiOperation({ summary: 'Ports the subscription with a PAC: download+enable at the recipient, then delete at the donor' })
  @ApiBody(portBody)
  @HttpCode(200)
  @OwnerAuth('porting.port')
  async port(@Owner() caller: OwnerCaller, @Param('eid') eid: string, @Body() body: unknown) {
    return this.registry.porting.port(caller, eid, body);
  }

  /** Owner / admin with a bearer token, or an MNO with X-API-Key and a valid consent. */
  @answers(200, statusChanged)
  @Post('devices/:eid/suspend')
  @ApiOperation({ summary: 'Suspends the device (owner/admin with a bearer token, or an MNO with X-API-Key and a consent)' })
  @ApiBody(suspendBody)
  @ApiSecurity('X-API-Key')
  @ApiHeader({ name: 'X-API-Key', required: false, description: 'An MNO API key (instead of the bearer token)' })
  @HttpCode(200)
  @OwnerAuth('device.suspend', { mnoApiKey: true })
  async suspend(@Owner() caller: Caller, @Param('eid') eid: string, @Body() body: unknown) {
    return this.registry.quarantine.suspend(caller, eid, body);
  }

  @answers(200, statusChanged)
  @Post('devices/:eid/reinstate')
  @ApiOperation({ summary: 'Reinstates a suspended device (needs step-up)' })
  @HttpCode(200)
  @OwnerAuth('device.reinstate')
  async reinstate(@Owner() caller: OwnerCaller, @Param('eid') eid: string) {
    return this.registry.quarantine.reinstate(caller, eid);
  }
}
