/** Makers and MNOs (X-API-Key), and the consent-signing keys anyone may fetch. */
import { Body, Controller, Get, Headers, Inject, Post } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { OwnerRegistry } from '../domain/registry';
import type { Authenticator } from './authenticator';
import { portingCodeBody, registerDeviceBody } from './openapi-schemas';
import { AUTHENTICATOR, JWKS, REGISTRY } from './tokens';

@ApiTags('Makers and MNOs')
@Controller()
export class ClientsController {
  constructor(
    @Inject(REGISTRY) private readonly registry: OwnerRegistry,
    @Inject(AUTHENTICATOR) private readonly auth: Authenticator,
    @Inject(JWKS) private readonly jwks: { keys: unknown[] },
  ) {}

  @Post('makers/devices')
  @ApiOperation({ summary: 'Registers a device (maker); only a hash of the claim code is stored' })
  @ApiBody(registerDeviceBody)
  @ApiSecurity('X-API-Key')
  @ApiHeader({ name: 'X-API-Key', required: true, description: 'A maker API key' })
  async register(@Headers('x-api-key') apiKey: string | undefined, @Body() body: unknown) {
    return this.registry.devices.register(await this.auth.client(apiKey, ['maker'], 'device.register'), body);
  }

  @Post('mno/porting-codes')
  @ApiOperation({ summary: 'Issues a PAC for (eid, iccid) (donor MNO; 9 characters, 30 days, hashed)' })
  @ApiBody(portingCodeBody)
  @ApiSecurity('X-API-Key')
  @ApiHeader({ name: 'X-API-Key', required: true, description: 'A donor MNO API key' })
  async issuePac(@Headers('x-api-key') apiKey: string | undefined, @Body() body: unknown) {
    return this.registry.porting.issuePac(await this.auth.client(apiKey, ['mno'], 'porting.pac.issue'), body);
  }

  @Get('.well-known/jwks.json')
  @ApiOperation({ summary: 'The consent-signing public keys (anyone)' })
  keys() {
    return this.jwks;
  }
}
