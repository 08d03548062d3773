/**
 * ES1: EUM → SM-SR (SGP.02 §5.5 [U exact numbering]). RegisterEIS hands the SM-SR the EIS of a newly
 * manufactured eUICC, signed by the EUM (see {@link verifyEisSignature}: the SM-SR refuses an EIS whose
 * signature does not verify with the EUM certificate's key).
 *
 * ```
 * RegisterEIS ::= { header, eis }  → {}
 * ```
 */
import { eis, type Eis } from '../eis';
import { type Check } from '../schema';
import { request, type FunctionRequest } from './common';
import { emptyResponse, type EmptyResponse } from './es2';

export type RegisterEisRequest = FunctionRequest<{ eis: Eis }>;
export type RegisterEisResponse = EmptyResponse;

export const registerEisRequest: Check<RegisterEisRequest> = request({ eis });
export const registerEisResponse: Check<RegisterEisResponse> = emptyResponse;

/** ES1 request validators by SGP.02 function name. */
export const ES1_REQUESTS = { RegisterEIS: registerEisRequest } as const;
/** ES1 response validators by SGP.02 function name. */
export const ES1_RESPONSES = { RegisterEIS: registerEisResponse } as const;
