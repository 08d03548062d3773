/** A file the user named on the command line, read whole: an unreadable one is one line naming it and why. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export function readUserFile(path: string, usageError: (message: string) => Error): string {
  try {
    return readFileSync(resolve(path), 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw usageError(`cannot read ${path}${typeof code === 'string' ? ` (${code})` : ''}`);
  }
}
