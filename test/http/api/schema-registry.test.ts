/**
 * The admin API's OpenAPI document: served (publicly) where every INVALID_BODY answer points, and
 * listing the routes with the roles they need.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';

interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  components: { securitySchemes: Record<string, { type: string; scheme: string }> };
  paths: Record<string, Record<string, { summary: string; requestBody?: unknown; responses: Record<string, { description: string }> }>>;
}

describe('/api/openapi.json', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
  });
  after(async () => {
    await gw.stop();
  });

  it('is served without credentials and describes the admin routes with their bodies and roles', async () => {
    const res = await gw.request('/api/openapi.json', { auth: false });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const document = (await res.json()) as OpenApiDocument;
    assert.equal(document.openapi, '3.1.0');
    assert.match(document.info.version, /^\d+\.\d+\.\d+/);
    assert.deepEqual(document.components.securitySchemes['basic'], { type: 'http', scheme: 'basic' });
    const addRepository = document.paths['/api/repositories']?.['post'];
    assert.ok(addRepository?.requestBody, 'the body schema is in the document');
    assert.match(addRepository.responses['403']?.description ?? '', /integrator/);
    assert.ok(document.paths['/api/tasks/{id}']?.['patch'], 'path parameters use OpenAPI braces');
    assert.ok(document.paths['/api/formats']?.['get'], 'the formats listing is documented');
  });

  it('is where an INVALID_BODY answer sends people, and that address answers', async () => {
    const res = await gw.request('/api/repositories', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 400);
    const reply = (await res.json()) as { code: string; fix: string };
    assert.equal(reply.code, 'INVALID_BODY');
    const pointedTo = /(\/api\/\S+\.json)/.exec(reply.fix)?.[1];
    assert.equal(pointedTo, '/api/openapi.json');
    assert.equal((await gw.request(pointedTo, { auth: false })).status, 200);
  });

  it('answers an unknown /api address with 404 rather than taking it for an Eden table', async () => {
    for (const address of ['/api/nothing.json', '/api/openapi.xml', '/api/formats.csv']) {
      const res = await gw.request(address);
      assert.equal(res.status, 404, address);
      assert.equal(((await res.json()) as { code: string }).code, 'NOT_FOUND');
    }
    assert.equal((await gw.request('/api/records.xml', { method: 'POST', body: '<s3xml/>' })).status, 404);
  });
});
