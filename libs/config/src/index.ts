/**
 * @packageDocumentation
 * `@rsp/config`: configuration validated at start (docs/configuration.md).
 *
 * - Settings are environment variables parsed with zod schemas built from the blocks here (port, URL,
 *   id, file, JSON, SecretBox keys…); a refusal names the setting and what it expects, never its value.
 * - Groups every app spreads in: runtime (RSP_ENV, RSP_DATA_DIR), MQTT, database, consent keys.
 * - Keys: a setting wins; production without it stops; development generates a key ONCE into the data
 *   directory (mode 600) and never again: an unreadable or invalid key file is an error naming it.
 */
export * from './errors';
export * from './settings';
export * from './load';
export * from './secrets';
export * from './groups';
export * from './dev-secrets';
export * from './pki-files';
export * from './consent-keys';
export * from './mqtt-identity';
