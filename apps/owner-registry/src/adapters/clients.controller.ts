/** Makers and MNOs (X-API-Key), and the consent-signing keys anyone may fetch. */
import { Body, Controller, Get, Headers, Inject, Post } from '@nestjs/common';
import type { OwnerRegistry } from '../domain/registry';
import type { Authenticator } from './authenticator';
import { AUTHENTICATOR, JWKS, REGISTRY } from './tokens';

@Controller()
export class ClientsController {
  constructor(
    @Inject(REGISTRY) private readonly registry: OwnerRegistry,
    @Inject(AUTHENTICATOR) private readonly auth: Authenticator,
    @Inject(JWKS) private readonly jwks: { keys: unknown[] },
  ) {}

  @Post('makers/devices')
  async register(@Headers('x-api-key') apiKey: string | undefined, @Body() body: unknown) {
    return this.registry.devices.register(await this.auth.client(apiKey, ['maker'], 'device.register'), body);
  }

  @Post('mno/porting-codes')
  async issuePac(@Headers('x-api-key') apiKey: string | undefined, @Body() body: unknown) {
    return this.registry.porting.issuePac(await this.auth.client(apiKey, ['mno'], 'porting.pac.issue'), body);
  }

  @Get('.well-known/jwks.json')
  keys() {
    return this.jwks;
  }
}
