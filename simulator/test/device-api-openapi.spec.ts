/**
 * The device API's OpenAPI document (issue 13): valid OpenAPI 3.0 (swagger-parser), and a request built
 * from it for every operation answers the documented success status with the documented fields. So the
 * hand-written document (the API is plain node:http) cannot drift from the routes.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import SwaggerParser from '@apidevtools/swagger-parser';
import { startDeviceApi, type DeviceApi } from '../src/device-api';
import { Fleet } from '../src/fleet';
import { STUB_COMMANDS, testPki } from './support';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let fleet: Fleet;
let api: DeviceApi;
let document: Json;

beforeAll(async () => {
  fleet = await Fleet.create({ size: 2, model: 'oven', pki: testPki(), commands: STUB_COMMANDS, faults: { seed: 1, devices: {} } });
  api = await startDeviceApi(fleet, { port: 0 });
  document = (await (await fetch(`${api.url}/openapi.json`)).json()) as Json;
});
afterAll(async () => {
  await api.close();
  await fleet.close();
});

/** `#/components/schemas/X` → the schema. */
const resolve = (schema: Json): Json => (schema.$ref ? (document.components.schemas[String(schema.$ref).split('/').pop() as string] as Json) : schema);

const operations = (): Array<[string, string, Json]> =>
  Object.entries(document.paths as Json).flatMap(([path, item]) => Object.entries(item as Json).map(([method, operation]) => [method, path, operation as Json] as [string, string, Json]));

describe('device API OpenAPI', () => {
  it('is valid OpenAPI 3.0', async () => {
    expect(document.openapi).toBe('3.0.3');
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeDefined();
  });

  it('answers a request built from the document, for every operation, with the documented status and fields', async () => {
    const eid = fleet.eids()[0] as string;
    const seen: string[] = [];
    for (const [method, path, operation] of operations()) {
      const url = `${api.url}${path.replace('{eid}', eid)}`;
      const [status, response] = Object.entries(operation.responses as Json).find(([code]) => code.startsWith('2')) as [string, Json];
      const body = operation.requestBody?.content?.['application/json']?.schema;
      const controller = new AbortController();
      const answer = await fetch(url, {
        method: method.toUpperCase(),
        signal: controller.signal,
        ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(resolve(body).example ?? {}) } : {}),
      });
      expect([`${method} ${path}`, answer.status]).toEqual([`${method} ${path}`, Number(status)]);
      const type = answer.headers.get('content-type') ?? '';
      expect(Object.keys(response.content as Json)).toContain(type.split(';')[0]);
      if (type.startsWith('text/event-stream')) controller.abort(); // a stream never ends by itself
      else if (type.startsWith('application/json')) {
        const schema = resolve((response.content as Json)['application/json'].schema as Json);
        const json = (await answer.json()) as Json;
        for (const field of (schema.required as string[] | undefined) ?? []) expect([`${method} ${path}`, field, field in json]).toEqual([`${method} ${path}`, field, true]);
      }
      seen.push(`${method} ${path}`);
    }
    expect(seen).toHaveLength(7);
  });

  it('documents the lifecycle name beside the code, which the API returns', async () => {
    const eid = fleet.eids()[0] as string;
    const profile = document.components.schemas.Profile as Json;
    expect(profile.required).toEqual(expect.arrayContaining(['lifeCycle', 'lifeCycleName']));
    const device = (await (await fetch(`${api.url}/devices/${eid}`)).json()) as Json;
    for (const entry of device.profiles as Json[]) expect(profile.properties.lifeCycleName.enum).toContain(entry.lifeCycleName);
  });
});
