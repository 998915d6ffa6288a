import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run } from '../../../src/cli/main.js';
import { parseS3XML } from '../../../src/s3xml/parse.js';

const ORGANISATIONS = `<?xml version="1.0" encoding="utf-8"?>
<s3xml>
  <resource name="org_organisation" uuid="urn:uuid:org-1" modified_on="2024-03-05T16:40:02">
    <data field="name">Himal Relief</data>
    <resource name="org_office" uuid="urn:uuid:office-1" modified_on="2024-03-05T16:40:02"><data field="name">Pokhara</data></resource>
    <resource name="org_office" uuid="urn:uuid:office-2" modified_on="2024-03-05T16:40:03"><data field="name">Gorkha</data></resource>
  </resource>
  <resource name="org_organisation" uuid="urn:uuid:org-2" modified_on="2024-03-06T08:00:00">
    <data field="name">Bagmati Volunteers</data>
    <resource name="org_office" uuid="urn:uuid:office-3" modified_on="2024-03-06T08:00:00"><data field="name">Lalitpur</data></resource>
  </resource>
</s3xml>`;

/** The CLI in this process; its output goes to files, so nothing needs capturing. */
async function sluice(args: string[]): Promise<number> {
  try {
    return await run(['node', 'sluice', ...args]);
  } finally {
    process.exitCode = undefined;
  }
}

describe('sluice export of a table whose rows arrived as components', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-cli-export-'));
    await writeFile(path.join(dir, 'organisations.xml'), ORGANISATIONS);
    assert.equal(await sluice(['import', path.join(dir, 'organisations.xml'), '--data', dir]), 0);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes every office with a reference to its organisation, and counts them all', async () => {
    const file = path.join(dir, 'offices.xml');
    assert.equal(await sluice(['export', 'org_office', '--data', dir, '-o', file]), 0);
    const doc = await parseS3XML(await readFile(file, 'utf8'));
    const offices = doc.resources.filter((resource) => resource.name === 'org_office');
    assert.deepEqual(
      offices.map((office) => [office.uuid, office.references.find((reference) => reference.field === 'organisation_id')?.uuid]),
      [
        ['urn:uuid:office-1', 'urn:uuid:org-1'],
        ['urn:uuid:office-2', 'urn:uuid:org-1'],
        ['urn:uuid:office-3', 'urn:uuid:org-2'],
      ],
    );
    assert.equal(doc.attributes.results, '3');
  });

  it('still nests the offices when the organisations are exported', async () => {
    const file = path.join(dir, 'organisations-out.xml');
    assert.equal(await sluice(['export', 'org_organisation', '--data', dir, '-o', file]), 0);
    const doc = await parseS3XML(await readFile(file, 'utf8'));
    assert.deepEqual(doc.resources.map((resource) => [resource.name, resource.components.length]), [
      ['org_organisation', 2],
      ['org_organisation', 1],
    ]);
  });

  it('refuses a filter without the ~. selector instead of ignoring it, and applies repeated filters together', async () => {
    const file = path.join(dir, 'refused.xml');
    assert.equal(await sluice(['export', 'org_office', '--data', dir, '--filter', 'name=Pokhara', '-o', file]), 65);
    const both = path.join(dir, 'both.xml');
    assert.equal(await sluice(['export', 'org_office', '--data', dir, '--filter', '~.name__like=*a*', '--filter', '~.name__like=G*', '-o', both]), 0);
    const doc = await parseS3XML(await readFile(both, 'utf8'));
    assert.deepEqual(doc.resources.filter((resource) => resource.name === 'org_office').map((office) => office.uuid), ['urn:uuid:office-2']);
  });
});
