import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ushahidiImportInput } from '../../src/formats/ushahidi-input.js';
import { isSluiceError } from '../../src/errors.js';

const OPTIONS = { deployment: 'haiti.example.org', timeZone: 'America/Port-au-Prince' };

describe('ushahidiImportInput', () => {
  it('passes an import document through as it is', () => {
    const document = { deployment: 'x.example.org', api: 'v5', posts: [{ id: 1 }] };
    const read = ushahidiImportInput(JSON.stringify(document), OPTIONS);
    assert.deepEqual(JSON.parse(read.json), document);
    assert.equal(read.readAs, 'import document');
  });

  it('normalises a v5 answer with the v5 client and names the deployment given', () => {
    const answer = { results: [{ id: 9, title: 'T', content: 'C', status: 'published', created: '2024-05-02T09:14:05+00:00', post_content: [] }] };
    const read = ushahidiImportInput(JSON.stringify(answer), OPTIONS);
    const document = JSON.parse(read.json) as { deployment: string; api: string; posts: { id: number; status: string; created: string }[] };
    assert.equal(document.deployment, 'haiti.example.org');
    assert.equal(document.api, 'v5');
    assert.deepEqual(document.posts.map((post) => [post.id, post.status, post.created]), [[9, 'published', '2024-05-02T09:14:05']]);
  });

  it('normalises a classic v2 answer into one status token per post, as the poll does', () => {
    const answer = {
      payload: { incidents: [{ incident: { incidentid: '4', incidenttitle: 'T', incidentdate: '2024-05-02 09:00:00', incidentactive: '1', incidentverified: '0' } }] },
      error: { code: '0', message: 'No Error' },
    };
    const document = JSON.parse(ushahidiImportInput(JSON.stringify(answer), OPTIONS).json) as { api: string; posts: { status: string; occurred: string }[] };
    assert.equal(document.api, 'v2');
    assert.equal(document.posts[0]?.status, 'approved unverified');
    // Port-au-Prince is UTC-4 in May: the classic API's local time becomes UTC.
    assert.equal(document.posts[0]?.occurred, '2024-05-02T13:00:00');
  });

  it('refuses JSON of another kind with a code of its own', () => {
    assert.throws(() => ushahidiImportInput('{"type":"FeatureCollection","features":[]}', OPTIONS), (error) => isSluiceError(error) && error.code === 'USHAHIDI_INPUT_UNRECOGNISED');
    assert.throws(() => ushahidiImportInput('not json', OPTIONS), (error) => isSluiceError(error) && error.code === 'JSON_INVALID');
  });
});
