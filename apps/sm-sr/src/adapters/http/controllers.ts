/**
 * HTTP binding of ES1 and ES4 (docs/services.md "HTTP binding"), thin over the common frame: prove the
 * requester from the API key, call `service.frame`, write its answer (HTTP 200 for every answered call,
 * Failed included; 401 only when no credential at all was sent, still with a Failed body).
 */
import { Body, Controller, Headers, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { FrameAnswer, ProvenRequester } from '@rsp/contracts';
import type { FunctionResult } from '../../domain/function-runner';
import type { SmSrService } from '../../domain/sm-sr-service';
import type { TransactionLog } from '@rsp/service-kit';
import { SMSR_HTTP_AUTH, SMSR_SERVICE, SMSR_TRANSACTION_LOG, type ApiKeyDirectory, type SmSrHttpAuth } from './auth';

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

/** The requester an `X-API-Key` proves: nobody sent one → missing; a key of nobody → unknown. */
function byApiKey(directory: ApiKeyDirectory, apiKey: string | undefined): ProvenRequester {
  if (!apiKey) return { kind: 'missing' };
  const id = directory.identify(apiKey);
  return id === undefined ? { kind: 'unknown' } : { kind: 'proven', id };
}

function write(response: Response, answer: FrameAnswer): FunctionResult {
  response.status(answer.httpStatus);
  return answer.response;
}

@ApiTags('ES4 (MNO → SM-SR)')
@Controller('gsma/es4')
export class Es4HttpController {
  constructor(
    @Inject(SMSR_SERVICE) private readonly service: SmSrService,
    @Inject(SMSR_HTTP_AUTH) private readonly auth: SmSrHttpAuth,
    @Inject(SMSR_TRANSACTION_LOG) private readonly transactions: TransactionLog,
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
    const requester = byApiKey(this.auth.mnos, apiKey);
    // Followable by the MNO that made it (GET /transactions/{functionCallIdentifier}).
    const answer = await this.transactions.around(requester, functionName, body, () =>
      this.service.frame.call({ iface: 'ES4', functionName, body, requester, ...(ownerConsent ? { ownerConsent } : {}) }),
    );
    return write(response, answer);
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
    // Without a key the EUM's signature over the EIS proves it (RegisterEis steps 1–3), unless that EUM has a key.
    const requester: ProvenRequester = apiKey ? byApiKey(this.auth.eums, apiKey) : { kind: 'by-function', allowed: (claimed) => !this.auth.eums.hasKey(claimed) };
    return write(response, await this.service.frame.call({ iface: 'ES1', functionName, body, requester }));
  }
}
