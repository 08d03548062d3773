/** Parsing an environment against a schema: every refusal becomes one {@link ConfigError.InvalidSetting}. */
import type { z } from 'zod';
import { ConfigError, type SettingIssue } from './errors';

/** The parsed type of a settings group (an object of setting schemas). */
export type SettingsOf<Shape extends z.ZodRawShape> = z.output<z.ZodObject<Shape>>;

/** The environment as read (process.env or a test's object). */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * The settings `schema` reads from `env`, typed. Values are trimmed (a trailing newline from `$(cat file)`
 * is not part of a key) and an empty value counts as unset. All refused settings are reported together.
 */
export function parseSettings<Schema extends z.ZodType>(schema: Schema, env: Environment): z.output<Schema> {
  const present: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    const trimmed = value?.trim();
    if (trimmed) present[name] = trimmed;
  }
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  throw new ConfigError.InvalidSetting(result.error.issues.map(toSettingIssue));
}

/** A zod issue as `RSP_X` or `RSP_X[0].field`, with its message (ours say what is expected; none quotes input). */
function toSettingIssue(issue: z.core.$ZodIssue): SettingIssue {
  const [head, ...rest] = issue.path;
  const setting = String(head ?? '(settings)') + rest.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('');
  return { setting, expected: issue.message };
}
