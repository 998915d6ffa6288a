import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Agent } from 'undici';
import { dataValue, type S3Document, type S3Resource } from '../../src/s3xml/model.js';
import { parseS3XML } from '../../src/s3xml/parse.js';
import { deploymentDomain, importDocumentJson } from '../../src/ushahidi/import-document.js';
import type { UshahidiPost } from '../../src/ushahidi/source.js';
import { UshahidiV2Client } from '../../src/ushahidi/ushahidi-v2-client.js';
import { UshahidiV5Client } from '../../src/ushahidi/ushahidi-v5-client.js';
import { createFakeUshahidi, type FakeUshahidi } from '../../tools/fake-ushahidi/index.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const STYLESHEET = path.join(REPO, 'stylesheets', 'ushahidi', 'import.xsl');

interface SaxonApi {
  transform(
    options: {
      stylesheetInternal: unknown;
      initialTemplate: string;
      stylesheetParams: Record<string, string>;
      destination: 'serialized';
    },
    mode: 'sync',
  ): { principalResult: string };
}
const SaxonJS = createRequire(import.meta.url)('saxon-js') as SaxonApi;

let workDir: string;
let sefText: string;

async function runImport(json: string, params: Record<string, string> = {}): Promise<S3Document> {
  const stylesheetParams: Record<string, string> = { 'Q{}json': json };
  for (const [name, value] of Object.entries(params)) stylesheetParams[`Q{}${name}`] = value;
  // A fresh parse per run: SaxonJS adds back-pointers to the SEF object it is given.
  const result = SaxonJS.transform(
    {
      stylesheetInternal: JSON.parse(sefText),
      initialTemplate: 'Q{http://www.w3.org/1999/XSL/Transform}initial-template',
      stylesheetParams,
      destination: 'serialized',
    },
    'sync',
  );
  return parseS3XML(result.principalResult);
}

const field = (resource: S3Resource, name: string) => resource.data.find((d) => d.field === name);
const ref = (resource: S3Resource, name: string) => resource.references.find((r) => r.field === name);

function post(overrides: Partial<UshahidiPost>): UshahidiPost {
  return {
    id: 1041,
    title: 'Water needed at Petionville camp',
    content: 'About 300 families near the golf course have had no clean water since Tuesday.',
    status: 'draft',
    triage: { api: 'v5', status: 'draft' },
    created: '2024-05-02T09:14:05',
    occurred: '2024-05-02T09:13:00',
    lat: 18.5125,
    lon: -72.2853,
    locationName: 'Pétion-Ville',
    categories: [
      { id: 12, tag: 'Water shortage' },
      { id: 3, tag: 'Emergency' },
    ],
    values: { 'People affected': 300 },
    source: 'sms',
    raw: { ignored: true },
    ...overrides,
  };
}

before(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-ushahidi-xsl-'));
  const sef = path.join(workDir, 'import.sef.json');
  await promisify(execFile)(process.execPath, [path.join(REPO, 'node_modules', 'xslt3', 'xslt3.js'), `-xsl:${STYLESHEET}`, `-export:${sef}`, '-nogo'], {
    cwd: REPO,
  });
  sefText = await readFile(sef, 'utf8');
});
after(() => rm(workDir, { recursive: true, force: true }));

describe('Ushahidi import stylesheet', () => {
  it('turns a post into an event_incident_report and a gis_location with deployment-scoped uuids', async () => {
    const doc = await runImport(importDocumentJson('haiti.example.org', 'v5', [post({})]));
    assert.equal(doc.attributes.domain, 'haiti.example.org');
    const report = doc.resources.find((r) => r.name === 'event_incident_report')!;
    const location = doc.resources.find((r) => r.name === 'gis_location')!;
    assert.equal(report.uuid, 'haiti.example.org/1041');
    assert.equal(report.created_on, '2024-05-02T09:14:05');
    assert.equal(report.modified_on, '2024-05-02T09:14:05');
    assert.equal(field(report, 'name')?.text, 'Water needed at Petionville camp');
    assert.equal(field(report, 'description')?.text, post({}).content);
    assert.equal(field(report, 'date')?.text, '2024-05-02T09:13:00');
    assert.equal(dataValue(field(report, 'closed')!), false);
    assert.equal(ref(report, 'location_id')?.uuid, location.uuid);
    assert.equal(location.uuid, 'haiti.example.org/location/1041');
    assert.equal(field(location, 'name')?.text, 'Pétion-Ville');
    assert.equal(dataValue(field(location, 'lat')!), 18.5125);
    assert.equal(dataValue(field(location, 'lon')!), -72.2853);
    const type = doc.resources.find((r) => r.name === 'event_incident_type')!;
    assert.equal(ref(report, 'incident_type_id')?.tuid, type.tuid);
    assert.equal(field(type, 'name')?.text, 'Water shortage');
    const comments = field(report, 'comments')?.text ?? '';
    assert.match(comments, /Categories: Water shortage, Emergency/);
    assert.match(comments, /People affected: 300/);
  });

  it('writes the legacy irs_ireport layout when asked for that resource', async () => {
    const v2 = post({ status: 'published', triage: { api: 'v2', approved: true, verified: true } });
    const doc = await runImport(importDocumentJson('haiti.example.org', 'v2', [v2]), { resource: 'irs_ireport' });
    const report = doc.resources.find((r) => r.name === 'irs_ireport')!;
    assert.equal(report.uuid, 'haiti.example.org/1041');
    assert.equal(field(report, 'message')?.text, v2.content);
    assert.equal(field(report, 'datetime')?.text, '2024-05-02T09:13:00');
    assert.equal(field(report, 'category')?.text, 'Water shortage');
    assert.equal(dataValue(field(report, 'verified')!), true);
    assert.ok(!doc.resources.some((r) => r.name === 'event_incident_type'));
  });

  it('copes with posts without title, place or categories, and with markup in text', async () => {
    const doc = await runImport(
      importDocumentJson('d.example', 'v5', [
        post({ id: 7, title: '', content: '', lat: undefined, lon: undefined, locationName: undefined, categories: [], values: {}, status: 'archived', triage: { api: 'v5', status: 'archived' } }),
        post({ id: 8, title: 'Food & water <blocked> "near" camp', content: 'a < b & c' }),
      ]),
      { 'status-field': 'ushahidi_status' },
    );
    const untitled = doc.resources.find((r) => r.uuid === 'd.example/7')!;
    assert.equal(field(untitled, 'name')?.text, 'Ushahidi report 7');
    assert.equal(ref(untitled, 'location_id'), undefined);
    assert.equal(dataValue(field(untitled, 'closed')!), true);
    assert.equal(field(untitled, 'ushahidi_status')?.text, 'archived');
    const marked = doc.resources.find((r) => r.uuid === 'd.example/8')!;
    assert.equal(field(marked, 'name')?.text, 'Food & water <blocked> "near" camp');
    assert.equal(field(marked, 'description')?.text, 'a < b & c');
    assert.equal(doc.resources.filter((r) => r.name === 'gis_location').length, 1);
  });

  it('keeps ids and numbers as the API wrote them, and custom fields in the order it sent them', async () => {
    const values = { Zeta: 1, Alpha: 'x', 'People affected': 1_500_000, Needs: ['water', 'food'], Contact: null };
    const doc = await runImport(importDocumentJson('haiti.example.org', 'v5', [post({ id: 12_345_678, lat: 18.5, lon: -72.25, values })]));
    const report = doc.resources.find((r) => r.name === 'event_incident_report')!;
    const location = doc.resources.find((r) => r.name === 'gis_location')!;
    assert.equal(report.uuid, 'haiti.example.org/12345678', 'not 1.2345678E7');
    assert.equal(location.uuid, 'haiti.example.org/location/12345678');
    assert.equal(field(location, 'lat')?.value, '18.5');
    assert.equal(field(location, 'lon')?.value, '-72.25');
    const comments = field(report, 'comments')?.text ?? '';
    assert.match(comments, /Zeta: 1\nAlpha: x\nPeople affected: 1500000\nNeeds: water, food\nSource: sms/);
    assert.doesNotMatch(comments, /Contact/, 'empty fields are left out');
  });

  describe('fed by the clients from the fake', () => {
    let fake: FakeUshahidi;
    let agent: Agent;
    before(async () => {
      fake = await createFakeUshahidi({ posts: 150 });
      agent = new Agent();
    });
    after(async () => {
      await agent.destroy();
      await fake.close();
    });

    it('imports every v5 post once, in several scripts, and a full re-poll yields the same uuids', async () => {
      const domain = deploymentDomain(fake.url);
      const poll = async () => {
        const client = new UshahidiV5Client({ baseUrl: fake.url, username: fake.admin.email, password: fake.admin.password, dispatcher: agent });
        const uuids: string[] = [];
        for await (const page of client.fetchPostsSince(0, 60)) {
          const doc = await runImport(importDocumentJson(domain, 'v5', page.posts));
          uuids.push(...doc.resources.filter((r) => r.name === 'event_incident_report').map((r) => r.uuid!));
        }
        return uuids;
      };
      const uuids = await poll();
      assert.equal(uuids.length, 150);
      assert.equal(new Set(uuids).size, 150);
      assert.ok(uuids.every((uuid) => uuid.startsWith(`${domain}/`)));
      assert.deepEqual(await poll(), uuids, 'the same posts map to the same uuids, so a re-poll updates');

      const titles = [...fake.state.postsBetween()].map((p) => p.title);
      assert.ok(titles.some((t) => /[\u0600-\u06ff]/.test(t)) && titles.some((t) => /[\u0900-\u097f]/.test(t)), 'Arabic and Devanagari seeded');
    });

    it('imports v2 incidents with the same stylesheet', async () => {
      const client = new UshahidiV2Client({ baseUrl: fake.url, timeZone: 'America/Port-au-Prince', dispatcher: agent });
      const posts: UshahidiPost[] = [];
      for await (const page of client.fetchPostsSince(0, 100)) posts.push(...page.posts);
      const doc = await runImport(importDocumentJson(deploymentDomain(fake.url), 'v2', posts));
      const reports = doc.resources.filter((r) => r.name === 'event_incident_report');
      assert.equal(reports.length, posts.length);
      const first = reports.find((r) => r.uuid === `${deploymentDomain(fake.url)}/${posts[0]!.id}`)!;
      assert.equal(field(first, 'name')?.text, posts[0]!.title);
    });
  });
});

describe('deploymentDomain', () => {
  it('keeps host, port and path and drops scheme and trailing slash', () => {
    assert.equal(deploymentDomain('https://Haiti.API.ushahidi.io/'), 'haiti.api.ushahidi.io');
    assert.equal(deploymentDomain('http://127.0.0.1:8090'), '127.0.0.1:8090');
    assert.equal(deploymentDomain('http://example.org/ushahidi/'), 'example.org/ushahidi');
    assert.throws(() => deploymentDomain('haiti.example.org'));
  });
});
