/**
 * The REST and sync exports of a table give every row of it, as Eden's do: the demo's offices are
 * stored nested under their organisations, and `/org/office.xml` still lists them all.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseS3XML } from '../../src/s3xml/parse.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

describe('exports of a table whose rows are stored as components', () => {
  let gw: TestGateway;
  let offices: Map<string, string>;
  before(async () => {
    gw = await startTestGateway({ demo: true });
    const stored = await gw.store.queryRecords({ resource: 'org_office' });
    offices = new Map(stored.map((office) => [office.uuid, office.parent?.uuid ?? '']));
  });
  after(async () => {
    await gw.stop();
  });

  it('list every demo office at /org/office.xml with its organisation_id, and count them all', async () => {
    assert.ok(offices.size > 20 && [...offices.values()].every((parent) => parent !== ''), 'the demo nests its offices');
    const doc = await parseS3XML(await (await gw.request('/org/office.xml')).text());
    const exported = doc.resources.filter((resource) => resource.name === 'org_office');
    assert.equal(exported.length, offices.size);
    assert.equal(doc.attributes.results, String(offices.size));
    for (const office of exported) {
      const organisation = office.references.find((reference) => reference.field === 'organisation_id');
      assert.equal(organisation?.resource, 'org_organisation');
      assert.equal(organisation?.uuid, offices.get(office.uuid!), `${office.uuid} names its own organisation`);
      assert.ok(organisation?.text, 'with the organisation\'s name as label');
    }
    const organisations = new Set(doc.resources.filter((resource) => resource.name === 'org_organisation').map((resource) => resource.uuid));
    assert.deepEqual(organisations, new Set(offices.values()), 'the organisations are appended as dependencies');
  });

  it('serve every demo office to a sync pull of org_office, and filter them by organisation', async () => {
    const doc = await parseS3XML(await (await gw.request('/sync/sync.xml?resource=org_office', { auth: false })).text());
    assert.equal(doc.resources.filter((resource) => resource.name === 'org_office').length, offices.size);
    const [someOrganisation] = [...offices.values()];
    const mine = [...offices].filter(([, parent]) => parent === someOrganisation).map(([uuid]) => uuid).sort();
    const filtered = await parseS3XML(await (await gw.request(`/org/office.xml?~.organisation_id=${encodeURIComponent(someOrganisation!)}`)).text());
    assert.deepEqual(filtered.resources.filter((resource) => resource.name === 'org_office').map((resource) => resource.uuid).sort(), mine);
  });

  it('still nest the offices in /org/organisation.xml, not beside it', async () => {
    const doc = await parseS3XML(await (await gw.request('/org/organisation.xml')).text());
    assert.equal(doc.resources.filter((resource) => resource.name === 'org_office').length, 0);
    const nested = doc.resources.flatMap((resource) => resource.components).filter((component) => component.name === 'org_office');
    assert.equal(nested.length, offices.size);
    assert.ok(nested.every((office) => office.references.every((reference) => reference.field !== 'organisation_id')));
  });
});
