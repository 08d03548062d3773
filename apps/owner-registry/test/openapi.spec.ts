/** The registry's OpenAPI document at /docs-json (Swagger UI at /docs): routes, bodies and security schemes. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import SwaggerParser from '@apidevtools/swagger-parser';
import { startFixture, type Fixture, type Json } from './support';

let f: Fixture;

beforeAll(async () => {
  f = await startFixture();
});

afterAll(async () => {
  await f?.close();
});

describe('OpenAPI', () => {
  it('lists the owner and client routes and declares bearer and API-key auth', async () => {
    const response = await fetch(`${f.registry.httpUrl}/docs-json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as Json;
    expect(Object.keys(document.paths as Json)).toEqual(expect.arrayContaining(['/devices/claim', '/transfers/redeem', '/devices/{eid}/consents', '/makers/devices', '/mno/porting-codes']));
    expect(Object.keys(document.paths as Json).some((path) => path.startsWith('/portal'))).toBe(false);
    expect(document.components.securitySchemes).toMatchObject({ 'owner-id-token': { type: 'http', scheme: 'bearer' }, 'X-API-Key': { type: 'apiKey', in: 'header', name: 'X-API-Key' } });
    const claim = document.paths['/devices/claim'].post as Json;
    expect(claim.security).toEqual(expect.arrayContaining([{ 'owner-id-token': [] }]));
    expect(claim.requestBody.content['application/json'].schema).toMatchObject({ required: ['deviceUrl', 'claimCode'] });
    expect(document.paths['/transfers/redeem'].post.requestBody.content['application/json'].schema.required).toEqual(['deviceUrl', 'transferCode']);
    expect(document.paths['/makers/devices'].post.security).toEqual([{ 'X-API-Key': [] }]);
    // Suspend: an owner's bearer token or an MNO's API key.
    expect(document.paths['/devices/{eid}/suspend'].post.security).toEqual(expect.arrayContaining([{ 'owner-id-token': [] }, { 'X-API-Key': [] }]));
    expect((await fetch(`${f.registry.httpUrl}/docs`)).status).toBe(200);
  });

  it('is valid OpenAPI, with a request body, a success schema and the refusals on every operation, and says how to get credentials', async () => {
    const document = (await (await fetch(`${f.registry.httpUrl}/docs-json`)).json()) as Json;
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeDefined();
    const withoutBody = new Set(['post /devices/{eid}/reinstate']);
    const missing: string[] = [];
    for (const [path, item] of Object.entries(document.paths as Json)) {
      for (const [method, operation] of Object.entries(item as Json) as Array<[string, Json]>) {
        const where = `${method} ${path}`;
        if (['post', 'put', 'patch'].includes(method) && !withoutBody.has(where) && !operation.requestBody?.content?.['application/json']?.schema) missing.push(`${where}: request body`);
        const success = Object.entries(operation.responses as Json).find(([code]) => code.startsWith('2'));
        if (!success || !Object.values((success[1] as Json).content ?? {}).some((media) => (media as Json).schema)) missing.push(`${where}: success schema`);
        const authenticated = (operation.security ?? []).length > 0;
        if (authenticated && !(operation.responses as Json)['401']?.content?.['application/json']?.schema?.required?.includes('error')) missing.push(`${where}: 401 refusal`);
      }
    }
    expect(missing).toEqual([]);
    expect(document.info.description).toContain('npx rsp login');
    expect(document.components.securitySchemes['X-API-Key'].description).toContain('data/demo-mno-api-key');
  });
});
