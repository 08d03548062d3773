/**
 * What every SGP.02 off-card function shares (SGP.02 §5.1 "Common aspects"; JSON layout after the GSMA
 * JSON binding of SGP.22 §6.5, as SGP.02 itself only defines the SOAP/WSDL binding):
 *
 * ```
 * Request  ::= { header: { functionRequesterIdentifier, functionCallIdentifier, validityPeriod? }, ...input }
 * Response ::= { header: { functionExecutionStatus }, ...output }            -- output only when executed
 * ```
 * functionCallIdentifier makes calls idempotent (a retry with the same identifier returns the first result);
 * validityPeriod is in seconds (SOAP `ValidityPeriod`).
 */
import { EXECUTION_STATUS, type FunctionExecutionStatus, type StatusCodeData } from '../status';
import { ContractError } from '../errors';
import { identifier, integer, jsonSchemaOf, object, oneOf, optional, string, withSchema, type Check, type Infer } from '../schema';

export interface RequestHeader {
  /** Who calls (SOAP: WS-Addressing From); checked against the authenticated peer by the service. */
  functionRequesterIdentifier: string;
  /** Unique per call of this requester; the idempotency key. */
  functionCallIdentifier: string;
  /** Seconds the requester will wait for the result; past it the function ends `Expired` (1.6 / 5.3). */
  validityPeriod?: number;
}

export interface ResponseHeader {
  functionExecutionStatus: FunctionExecutionStatus;
}

/** A request: the header plus the function's input parameters. */
export type FunctionRequest<Input> = { header: RequestHeader } & Input;
/** A response: the header plus the function's output parameters (present when executed). */
export type FunctionResponse<Output = object> = { header: ResponseHeader } & Output;

/** Longest validity period accepted: 30 days. */
export const MAX_VALIDITY_PERIOD_SECONDS = 30 * 24 * 3600;

export const requestHeader: Check<RequestHeader> = object({
  functionRequesterIdentifier: identifier,
  functionCallIdentifier: string({ maxLength: 128, pattern: /^[\x21-\x7E]+$/, expected: 'a printable identifier' }),
  validityPeriod: optional(integer(1, MAX_VALIDITY_PERIOD_SECONDS)),
});

const dotted = string({ maxLength: 16, pattern: /^\d+(?:\.\d+)*$/, expected: 'a dotted code such as 8.1.1' });

export const statusCodeData: Check<StatusCodeData> = object({
  subjectCode: dotted,
  reasonCode: dotted,
  subjectIdentifier: optional(string({ maxLength: 256 })),
  message: optional(string({ maxLength: 1024 })),
});

/** Validates a FunctionExecutionStatus; a Failed or Expired status must carry statusCodeData. */
const executionStatusShape = object({ status: oneOf(EXECUTION_STATUS), statusCodeData: optional(statusCodeData) });
export const functionExecutionStatus: Check<FunctionExecutionStatus> = withSchema((value: unknown, path: string): FunctionExecutionStatus => {
  const parsed = executionStatusShape(value, path);
  if ((parsed.status === 'Failed' || parsed.status === 'Expired') && parsed.statusCodeData === undefined) {
    throw new ContractError.MandatoryElementMissing(`${path ? `${path}.` : ''}statusCodeData`);
  }
  return parsed;
}, { ...jsonSchemaOf(executionStatusShape), description: 'SGP.02 §5.1 functionExecutionStatus; Failed and Expired carry statusCodeData' });

export const responseHeader: Check<ResponseHeader> = object({ functionExecutionStatus });

type Shape = Parameters<typeof object>[0];

/** A request validator: `header` plus the given input fields. */
export function request<S extends Shape>(input: S): Check<FunctionRequest<Infer<S>>> {
  const check = object({ header: requestHeader, ...input });
  return check as unknown as Check<FunctionRequest<Infer<S>>>;
}

/**
 * A response validator: `header` plus output fields. Outputs are only required when the function was
 * executed; a Failed / Expired response may omit them.
 */
export function response<S extends Shape>(output: S): Check<FunctionResponse<Partial<Infer<S>>>> {
  const whenExecuted = object({ header: responseHeader, ...output });
  const optionalOutput = Object.fromEntries(Object.entries(output).map(([key, check]) => [key, optional(check)]));
  const whenNot = object({ header: responseHeader, ...optionalOutput });
  // The document shows the outputs as optional: a Failed or Expired answer leaves them out.
  return withSchema((value: unknown, path: string): FunctionResponse<Partial<Infer<S>>> => {
    const header = object({ header: responseHeader })(value, path).header;
    const executed = header.functionExecutionStatus.status.startsWith('Executed');
    return (executed ? whenExecuted : whenNot)(value, path) as FunctionResponse<Partial<Infer<S>>>;
  }, jsonSchemaOf(whenNot));
}

/** The fields every notification of a profile change carries (SGP.02 §5.x Handle*Notification). */
export interface ProfileChangeNotification {
  eid: string;
  iccid: string;
  /** When the change completed on the eUICC (ISO 8601). */
  completionTimestamp: string;
}
