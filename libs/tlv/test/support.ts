export * from '@rsp/tlv';

/** True when `e` is one of this project's typed errors with a code starting with `prefix`. */
export function isRspErrorOf(e: unknown, prefix: string): boolean {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string' && (e as unknown as { code: string }).code.startsWith(prefix);
}
