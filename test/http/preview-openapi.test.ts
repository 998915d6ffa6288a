import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

interface OpenApiOperation {
  summary: string;
  requestBody?: { content: Record<string, { schema: { required?: string[]; properties?: Record<string, unknown> } }> };
  responses: Record<string, { description: string }>;
}

describe('the preview in /api/openapi.json', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
  });
  after(async () => {
    await gw.stop();
  });

  it('describes POST /api/preview with its body and the roles it needs', async () => {
    const res = await gw.request('/api/openapi.json', { auth: false });
    const document = (await res.json()) as { paths: Record<string, Record<string, OpenApiOperation>> };
    const preview = document.paths['/api/preview']?.['post'];
    assert.ok(preview, 'the preview route is listed');
    const schema = preview.requestBody?.content['application/json']?.schema;
    assert.deepEqual(schema?.required, ['direction', 'input']);
    assert.ok(schema?.properties?.['resource'], 'the table of CSV/XLSX previews is described');
    assert.match(preview.responses['403']?.description ?? '', /analyst/);
  });

  it('previews a document larger than the admin API\'s 2 MB body limit', async () => {
    const records = Array.from({ length: 9_000 }, (_, i) => `<resource name="org_organisation" uuid="urn:uuid:big-${i}"><data field="name">Organisation ${i} with a long enough name to fill the page quickly ${'x'.repeat(200)}</data></resource>`);
    const input = `<s3xml>${records.join('')}</s3xml>`;
    assert.ok(input.length > 2 * 1024 * 1024, 'the input passes 2 MB');
    const res = await gw.request('/api/preview', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ format: 's3json', direction: 'export', input }),
    });
    const text = await res.text();
    assert.equal(res.status, 200, text.slice(0, 300));
    assert.match(text, /big-8999/);
  });
});
