/** The MNO inventory API (profile types, subscriptions), thin over InventoryApi. */
import { Body, Controller, Get, Headers, HttpCode, Inject, Post, Query, Res } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { HttpResponse as Response } from './http-response';
import type { InventoryApi, InventoryOutcome } from '../domain/inventory-api';
import { INVENTORY_API } from './tokens';

const send = (response: Response, outcome: InventoryOutcome): unknown => {
  response.status(outcome.httpStatus);
  return outcome.body;
};

@ApiTags('MNO inventory')
@ApiHeader({ name: 'X-API-Key', required: true })
@Controller('mno')
export class InventoryController {
  constructor(@Inject(INVENTORY_API) private readonly api: InventoryApi) {}

  @Post('profileTypes')
  @HttpCode(200)
  @ApiOperation({ summary: 'Adds or replaces a profile type (SAIP template DER as hex; default template when omitted)' })
  @ApiBody({ schema: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, template: { type: 'string', description: 'hex DER' }, pol1: { type: 'array', items: { type: 'object' }, description: 'POL1, written into the profile (SAIP ProfileHeader pol): DISABLE/Not-Allowed, DELETE/Not-Allowed, DISABLE/Auto-Delete' }, pol2: { type: 'array', items: { type: 'object' } } } } })
  async putProfileType(@Headers('x-api-key') apiKey: string | undefined, @Body() body: unknown, @Res({ passthrough: true }) response: Response) {
    return send(response, await this.api.putProfileType(apiKey, body));
  }

  @Get('profileTypes')
  @ApiOperation({ summary: 'Lists the profile types of the calling MNO' })
  async listProfileTypes(@Headers('x-api-key') apiKey: string | undefined, @Res({ passthrough: true }) response: Response) {
    return send(response, await this.api.listProfileTypes(apiKey));
  }

  @Post('subscriptions')
  @HttpCode(200)
  @ApiOperation({ summary: 'Loads subscriber records, or generates N of them (returned once, like an HSS provisioning file)' })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['profileType'],
      properties: {
        profileType: { type: 'string' },
        subscriptions: { type: 'array', items: { type: 'object', properties: { iccid: { type: 'string' }, imsi: { type: 'string' }, ki: { type: 'string' }, opc: { type: 'string' } } } },
        generate: { type: 'integer', minimum: 1, maximum: 10000 },
        iccidPrefix: { type: 'string' },
        imsiPrefix: { type: 'string' },
      },
    },
  })
  async addSubscriptions(@Headers('x-api-key') apiKey: string | undefined, @Body() body: unknown, @Res({ passthrough: true }) response: Response) {
    return send(response, await this.api.addSubscriptions(apiKey, body));
  }

  @Get('subscriptions')
  @ApiOperation({ summary: 'Lists the subscriptions of the calling MNO (no secrets)' })
  @ApiQuery({ name: 'state', required: false, enum: ['available', 'reserved', 'installed', 'deleted'] })
  @ApiQuery({ name: 'profileType', required: false })
  async listSubscriptions(
    @Headers('x-api-key') apiKey: string | undefined,
    @Query('state') state: string | undefined,
    @Query('profileType') profileType: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ) {
    return send(response, await this.api.listSubscriptions(apiKey, { ...(state ? { state } : {}), ...(profileType ? { profileType } : {}) }));
  }
}
