/**
 * The refusals the services' own (non-SGP.02) routes word as `{ error: { code, message } }` — transactions,
 * notifications read back — and how the services' exception filters keep them (the SGP.02 routes answer a
 * functionExecutionStatus instead).
 */
import { HttpException } from '@nestjs/common';

/** Which MNO an X-API-Key proves (undefined: none). */
export type MnoOfApiKey = (apiKey: string | undefined) => Promise<string | undefined> | string | undefined;

/** The MNO the key proves, or a 401 `{prefix}_UNAUTHENTICATED`. */
export async function provenMno(mnoOfApiKey: MnoOfApiKey, apiKey: string | undefined, codePrefix: string): Promise<string> {
  const mnoId = await mnoOfApiKey(apiKey);
  if (mnoId === undefined) throw new HttpException({ error: { code: `${codePrefix}_UNAUTHENTICATED`, message: 'X-API-Key of an MNO required' } }, 401);
  return mnoId;
}

/** A refusal a controller worded as `{ error: { code, message } }`: its HTTP status and body; undefined for anything else. */
export function wordedRefusal(exception: unknown): { status: number; body: object } | undefined {
  if (!(exception instanceof HttpException)) return undefined;
  const body = exception.getResponse();
  const worded = typeof body === 'object' && body !== null && typeof (body as { error?: { code?: unknown } }).error?.code === 'string';
  return worded ? { status: exception.getStatus(), body } : undefined;
}
