/**
 * Settings schemas: every refusal names the setting (env var, with its JSON path) and says what is
 * expected, and none quotes the value — a secret pasted into the wrong variable must not reach a log.
 */
import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { SecretBox } from '@rsp/persistence';
import { apiKey, apiKeyField, ConfigError, databaseUrl, directory, flag, host, identifier, isSecretBoxKeys, json, mode, parseSettings, port, secretBoxKeys, url, withDefault } from '@rsp/config';

const KEY = Buffer.alloc(32, 7).toString('base64');
const schema = z.object({
  RSP_ENV: mode(),
  RSP_DATA_DIR: directory('data'),
  RSP_HTTP_PORT: port(8080),
  RSP_HTTP_HOST: host('127.0.0.1'),
  RSP_BROKER_URL: url(['mqtt:', 'mqtts:']).optional(),
  RSP_SERVICE_ID: withDefault(identifier(), 'svc.demo'),
  RSP_FEATURE: flag(true),
  RSP_SECRET_BOX_KEYS: secretBoxKeys().optional(),
  RSP_DATABASE_URL: databaseUrl().optional(),
  RSP_API_KEY: apiKey().optional(),
  RSP_CLIENTS: json(z.array(z.strictObject({ id: z.string(), apiKey: apiKeyField() })), '[{ "id", "apiKey" }]').optional(),
});

/** The ConfigError a parse of `env` throws. */
function refusal(env: Record<string, string>): InstanceType<typeof ConfigError.InvalidSetting> {
  try {
    parseSettings(schema, env);
  } catch (error) {
    if (error instanceof ConfigError.InvalidSetting) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('parseSettings', () => {
  it('applies the defaults; an empty value counts as unset; values are trimmed', () => {
    const settings = parseSettings(schema, { RSP_HTTP_PORT: '', RSP_SECRET_BOX_KEYS: ` k1:${KEY}\n`, UNRELATED: 'x' });
    expect(settings).toMatchObject({ RSP_ENV: 'development', RSP_HTTP_PORT: 8080, RSP_HTTP_HOST: '127.0.0.1', RSP_SERVICE_ID: 'svc.demo', RSP_FEATURE: true });
    expect(settings.RSP_DATA_DIR).toMatch(/\/data$/);
    expect(settings.RSP_SECRET_BOX_KEYS).toBe(`k1:${KEY}`);
    expect(parseSettings(schema, { RSP_HTTP_PORT: '0', RSP_FEATURE: 'no', RSP_ENV: 'production' })).toMatchObject({ RSP_HTTP_PORT: 0, RSP_FEATURE: false, RSP_ENV: 'production' });
  });

  it.each([
    ['RSP_HTTP_PORT', '65536', /port number 0\.\.65535/],
    ['RSP_HTTP_PORT', 'eighty', /port number/],
    ['RSP_HTTP_PORT', '-1', /port number/],
    ['RSP_HTTP_PORT', '80.5', /port number/],
    ['RSP_BROKER_URL', 'http://broker:1883', /mqtt:\/\/… \| mqtts:\/\/…/],
    ['RSP_BROKER_URL', 'not a url', /expected a URL/],
    ['RSP_HTTP_HOST', 'bad host!', /host name or IP/],
    ['RSP_SERVICE_ID', 'has space', /letters, digits/],
    ['RSP_FEATURE', 'maybe', /1 or 0/],
    ['RSP_ENV', 'staging', /development \| production/],
    ['RSP_DATABASE_URL', 'sqlite://relative.db', /sqlite:\/\/\/absolute/],
    ['RSP_DATABASE_URL', 'mysql://u:hunter2@db/x', /postgres:\/\//],
  ])('%s=%s is refused naming the setting', (setting, value, expected) => {
    const error = refusal({ [setting]: value });
    expect(error.code).toBe('ERR_CONFIG_INVALID_SETTING');
    expect(error.setting).toBe(setting);
    expect(error.message).toMatch(new RegExp(`^${setting}: `));
    expect(error.message).toMatch(expected);
    expect(error.message).not.toContain(value);
  });

  it.each([
    ['no id', KEY],
    ['short key', `k1:${Buffer.alloc(16).toString('base64')}`],
    ['not base64', `k1:${'*'.repeat(44)}`],
    ['lenient base64 (whitespace inside)', `k1:${KEY.slice(0, 20)} ${KEY.slice(20)}`],
    ['bad id', `k!:${KEY}`],
    ['duplicate id', `k1:${KEY},k1:${KEY}`],
    ['trailing comma', `k1:${KEY},`],
    ['three parts', `k1:${KEY}:x`],
  ])('malformed RSP_SECRET_BOX_KEYS (%s) is refused without echoing the key', (_case, value) => {
    const error = refusal({ RSP_SECRET_BOX_KEYS: value });
    expect(error.setting).toBe('RSP_SECRET_BOX_KEYS');
    expect(error.message).toMatch(/id:base64key.*32 bytes/);
    expect(error.message).not.toContain(KEY.slice(0, 12));
  });

  it('accepts what SecretBox.fromConfig accepts, rotation included', () => {
    const value = `k2:${SecretBox.generateKey().toString('base64')},k1:${KEY}`;
    expect(isSecretBoxKeys(value)).toBe(true);
    expect(SecretBox.fromConfig(value).currentKeyId).toBe('k2');
  });

  it('reports every refused setting at once, in one line', () => {
    const error = refusal({ RSP_HTTP_PORT: 'x', RSP_BROKER_URL: 'y', RSP_API_KEY: 'short' });
    expect(error.issues.map((issue) => issue.setting).sort()).toEqual(['RSP_API_KEY', 'RSP_BROKER_URL', 'RSP_HTTP_PORT']);
    expect(error.message).not.toContain('\n');
  });

  it('names the JSON path inside a JSON setting, and never quotes the JSON (it carries API keys)', () => {
    const secret = 'sk-live-0123456789abcdef';
    const notJson = refusal({ RSP_CLIENTS: `[{"id":"a","apiKey":"${secret}"` });
    expect(notJson.message).toBe('RSP_CLIENTS: expected JSON: [{ "id", "apiKey" }]');
    const weak = refusal({ RSP_CLIENTS: JSON.stringify([{ id: 'a', apiKey: secret }, { id: 'b', apiKey: 'weak' }]) });
    expect(weak.setting).toBe('RSP_CLIENTS[1].apiKey');
    expect(weak.message).toMatch(/16 to 256 visible ASCII/);
    const typo = refusal({ RSP_CLIENTS: JSON.stringify([{ id: 'a', apikey: secret }]) });
    expect(typo.issues.map((issue) => issue.setting)).toEqual(expect.arrayContaining(['RSP_CLIENTS[0].apiKey']));
    for (const error of [notJson, weak, typo]) expect(error.message).not.toContain(secret);
  });
});
