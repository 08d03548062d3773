/** Shared OpenAPI schemas of the GSMA JSON binding (libs/contracts messages/common.ts). */
import type { OpenAPIObject } from '@nestjs/swagger';

type SchemaObject = NonNullable<NonNullable<OpenAPIObject['components']>['schemas']>[string];

export const openApiComponents: Record<string, SchemaObject> = {
  RequestHeader: {
    type: 'object',
    required: ['functionRequesterIdentifier', 'functionCallIdentifier'],
    properties: {
      functionRequesterIdentifier: { type: 'string', description: 'Must equal the authenticated MNO id' },
      functionCallIdentifier: { type: 'string', description: 'Idempotency key per requester (SGP.02 §5.1)' },
      validityPeriod: { type: 'integer', minimum: 1, description: 'Seconds; past it the function ends Expired (1.6 / 5.3)' },
    },
  },
  FunctionExecutionStatus: {
    type: 'object',
    required: ['status'],
    properties: {
      status: { type: 'string', enum: ['Executed-Success', 'Executed-WithWarning', 'Expired', 'Failed'] },
      statusCodeData: {
        type: 'object',
        properties: {
          subjectCode: { type: 'string', example: '8.2.1' },
          reasonCode: { type: 'string', example: '3.9' },
          subjectIdentifier: { type: 'string' },
          message: { type: 'string' },
        },
      },
    },
  },
  FunctionResponse: {
    type: 'object',
    required: ['header'],
    properties: {
      header: { type: 'object', properties: { functionExecutionStatus: { $ref: '#/components/schemas/FunctionExecutionStatus' } } },
    },
    additionalProperties: true,
  },
};
