/**
 * ES2 over HTTP (docs/services.md "HTTP binding"): `POST /gsma/es2/{functionName}`, thin over the common
 * frame: prove the MNO from its API key, call the ES2 table, write the answer.
 */
import { Body, Controller, Headers, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiParam, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { HttpResponse as Response } from './http-response';
import { ES2_FUNCTIONS, type Es2Service } from '../domain/es2-service';
import { ES2_SERVICE, TRANSACTION_LOG } from './tokens';
import type { TransactionLog } from '@rsp/service-kit';

@ApiTags('ES2 (MNO → SM-DP)')
@Controller('gsma/es2')
export class Es2Controller {
  constructor(
    @Inject(ES2_SERVICE) private readonly es2: Es2Service,
    @Inject(TRANSACTION_LOG) private readonly transactions: TransactionLog,
  ) {}

  @Post(':functionName')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Calls one ES2 function (SGP.02 §5.3)',
    description:
      'Body: the libs/contracts ES2 request (header + parameters). Always HTTP 200 with { header: { functionExecutionStatus }, …output } ' +
      'for a processed call, including Failed and Expired; 401 only when no X-API-Key is sent.',
  })
  @ApiParam({ name: 'functionName', enum: Object.keys(ES2_FUNCTIONS) })
  @ApiHeader({ name: 'X-API-Key', required: true, description: 'The MNO API key' })
  @ApiHeader({
    name: 'X-Owner-Consent',
    required: false,
    description: 'Owner consent (JWS from the owner registry) for DownloadProfile / EnableProfile / DisableProfile / DeleteProfile on an owned device',
  })
  @ApiBody({ schema: { type: 'object', required: ['header'], properties: { header: { $ref: '#/components/schemas/RequestHeader' } } } })
  @ApiOkResponse({ schema: { $ref: '#/components/schemas/FunctionResponse' } })
  @ApiUnauthorizedResponse({ schema: { $ref: '#/components/schemas/FunctionResponse' } })
  async call(
    @Param('functionName') functionName: string,
    @Headers('x-api-key') apiKey: string | undefined,
    @Headers('x-owner-consent') ownerConsent: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) response: Response,
  ): Promise<unknown> {
    const requester = await this.es2.identify(apiKey);
    // Followable by the MNO that made it (GET /transactions/{functionCallIdentifier}).
    const answer = await this.transactions.around(requester, functionName, body, () =>
      this.es2.frame.call({ iface: 'ES2', functionName, body, requester, ...(ownerConsent ? { ownerConsent } : {}) }),
    );
    response.status(answer.httpStatus);
    return answer.response;
  }
}
