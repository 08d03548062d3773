/**
 * HTTP binding of ES1 and ES4 (docs/services.md "HTTP binding"): `POST /gsma/{es1|es4}/{functionName}`,
 * lowerCamelCase names, always HTTP 200 with `{ header: { functionExecutionStatus }, …output }` for a
 * processed call (Failed included); 401 only when no credential at all was sent, still with a Failed body.
 */
import { Body, Controller, Headers, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { failed } from '@rsp/contracts';
import { SMSR_STATUS } from '../../domain/errors';
import { failedResult, type FunctionResult } from '../../domain/function-runner';
import type { SmSrService } from '../../domain/sm-sr-service';
import { SMSR_HTTP_AUTH, SMSR_SERVICE, type SmSrHttpAuth } from './auth';

/** The part of express's response the controllers use (no @types/express in the repo). */
interface Response {
  status(code: number): unknown;
}

const ES4_FUNCTIONS = ['getEIS', 'auditEIS', 'enableProfile', 'disableProfile', 'deleteProfile', 'updatePolicyRules'];
const RESPONSE_SCHEMA = {
  type: 'object',
  properties: {
    header: {
      type: 'object',
      properties: {
        functionExecutionStatus: {
          type: 'object',
          properties: {
            status: { type: 'string', enum: ['Executed-Success', 'Executed-WithWarning', 'Failed', 'Expired'] },
            statusCodeData: { type: 'object', properties: { subjectCode: { type: 'string' }, reasonCode: { type: 'string' }, subjectIdentifier: { type: 'string' }, message: { type: 'string' } } },
          },
        },
      },
    },
  },
  additionalProperties: true,
};
const REQUEST_SCHEMA = {
  type: 'object',
  required: ['header'],
  properties: {
    header: {
      type: 'object',
      required: ['functionRequesterIdentifier', 'functionCallIdentifier'],
      properties: { functionRequesterIdentifier: { type: 'string' }, functionCallIdentifier: { type: 'string' }, validityPeriod: { type: 'integer', description: 'seconds' } },
    },
  },
  additionalProperties: true,
};

function unauthenticated(response: Response): FunctionResult {
  response.status(401);
  return failedResult(failed(SMSR_STATUS.REQUESTER_UNKNOWN));
}

@ApiTags('ES4 (MNO → SM-SR)')
@Controller('gsma/es4')
export class Es4HttpController {
  constructor(
    @Inject(SMSR_SERVICE) private readonly service: SmSrService,
    @Inject(SMSR_HTTP_AUTH) private readonly auth: SmSrHttpAuth,
  ) {}

  @Post(':functionName')
  @HttpCode(200)
  @ApiOperation({ summary: 'ES4 function (SGP.02 §5.6): GetEIS, AuditEIS, EnableProfile, DisableProfile, DeleteProfile, UpdatePolicyRules' })
  @ApiParam({ name: 'functionName', enum: ES4_FUNCTIONS })
  @ApiHeader({ name: 'X-API-Key', required: true, description: 'the MNO API key' })
  @ApiHeader({
    name: 'X-Owner-Consent',
    required: false,
    description: 'owner consent (JWS from the owner registry) for EnableProfile / DisableProfile / DeleteProfile on an owned device',
  })
  @ApiBody({ schema: REQUEST_SCHEMA })
  @ApiOkResponse({ schema: RESPONSE_SCHEMA })
  async call(
    @Param('functionName') functionName: string,
    @Body() body: unknown,
    @Headers('x-api-key') apiKey: string | undefined,
    @Headers('x-owner-consent') ownerConsent: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<FunctionResult> {
    if (!apiKey) return unauthenticated(response);
    const mnoId = this.auth.mnos.identify(apiKey);
    if (mnoId === undefined) return failedResult(failed(SMSR_STATUS.REQUESTER_UNKNOWN));
    return this.service.call('ES4', functionName, body, mnoId, ownerConsent);
  }
}

@ApiTags('ES1 (EUM → SM-SR)')
@Controller('gsma/es1')
export class Es1HttpController {
  constructor(
    @Inject(SMSR_SERVICE) private readonly service: SmSrService,
    @Inject(SMSR_HTTP_AUTH) private readonly auth: SmSrHttpAuth,
  ) {}

  @Post(':functionName')
  @HttpCode(200)
  @ApiOperation({ summary: 'ES1 RegisterEIS (SGP.02 §5.5.1): the EUM registers a signed EIS' })
  @ApiParam({ name: 'functionName', enum: ['registerEIS'] })
  @ApiHeader({ name: 'X-API-Key', required: false, description: 'the EUM API key, when the EUM is configured with one; else the EIS signature authenticates' })
  @ApiBody({ schema: REQUEST_SCHEMA })
  @ApiOkResponse({ schema: RESPONSE_SCHEMA })
  async call(
    @Param('functionName') functionName: string,
    @Body() body: unknown,
    @Headers('x-api-key') apiKey: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<FunctionResult> {
    if (apiKey) {
      const eumId = this.auth.eums.identify(apiKey);
      if (eumId === undefined) return failedResult(failed(SMSR_STATUS.REQUESTER_UNKNOWN));
      return this.service.call('ES1', functionName, body, eumId);
    }
    const claimed = (body as { header?: { functionRequesterIdentifier?: unknown } } | undefined)?.header?.functionRequesterIdentifier;
    if (typeof claimed === 'string' && this.auth.eums.hasKey(claimed)) return unauthenticated(response);
    return this.service.call('ES1', functionName, body); // authenticated by the EUM signature (RegisterEis steps 1–3)
  }
}
