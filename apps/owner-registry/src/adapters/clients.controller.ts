/** Makers and MNOs (X-API-Key), and the consent-signing keys anyone may fetch. */
import { Body, Controller, Get, Headers, Inject, Post } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { OwnerRegistry } from '../domain/registry';
import type { Authenticator } from './authenticator';
import { answers, pacIssued, portingCodeBody, refusals, registerDeviceBody, registeredDevice } from './openapi-schemas';
import { AUTHENTICATOR, JWKS, REGISTRY } from './tokens';

@ApiTags('Makers and MNOs')
@Controller()
export class ClientsController {
  constructor(
    @Inject(REGISTRY) private readonly registry: OwnerRegistry,
    @Inject(AUTHENTICATOR) private readonly auth: Authenticator,
    @Inject(JWKS) private readonly jwks: { keys: unknown[] },
  ) {}

  @answers(201, registeredDevice)
  @refusals()
  @Post('makers/devices')
  @ApiOperation({ summary: 'Registers a device (maker); only a hash of the claim code is stored' })
  @ApiBody(registerDeviceBody)
  @ApiSecurity('X-API-Key')
  @ApiHeader({ name: 'X-API-Key', required: true, description: 'A maker API key' })
  async register(@Headers('x-api-key') apiKey: string | undefined, @Body() body: unknown) {
    return this.registry.devices.register(await this.auth.client(apiKey, ['maker'], 'device.register'), body);
  }

  @answers(201, pacIssued)
  @refusals()
  @Post('mno/porting-codes')
  @ApiOperation({ summary: 'Issues a PAC for (eid, iccid) (donor MNO; 9 characters, 30 days, hashed)' })
  @ApiBody(portingCodeBody)
  @ApiSecurity('X-API-Key')
  @ApiHeader({ name: 'X-API-Key', required: true, description: 'A donor MNO API key' })
  async issuePac(@Headers('x-api-key') apiKey: string | undefined, @Body() body: unknown) {
    return this.registry.porting.issuePac(await this.auth.client(apiKey, ['mno'], 'porting.pac.issue'), body);
  }

  @Get('.well-known/jwks.json')
  @answers(200, { type: 'object', required: ['keys'], properties: { keys: { type: 'array', items: { type: 'object', description: 'a public JWK (EC P-256, kid, alg ES256)' } } } })
  @ApiOperation({ summary: 'The consent-signing public keys (anyone)' })
  keys() {
    return this.jwks;
  }
}
