/**
 * Property tests over generated Eden documents: S3XML → importer → store → exporter → S3XML keeps
 * everything (modulo mci + 1 and the domain prefix on export), a second import of the same
 * document changes nothing, and what is exported imports into another store unchanged.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { exportResources } from '../../src/exporter/exporter.js';
import { importResources, importS3XMLBytes } from '../../src/importer/importer.js';
import type { S3Document, S3Reference, S3Resource } from '../../src/s3xml/model.js';
import { parseS3XML } from '../../src/s3xml/parse.js';
import { serializeS3XML, serializeS3XMLStream } from '../../src/s3xml/serialize.js';
import type { Store } from '../../src/store/store.js';
import { arbDocument } from '../support/arbitrary-s3xml.js';
import { fixedClock, NOW, seed, storeKinds, text } from './support.js';

const DOMAIN = 'sluice.example.org';
/** Fewer runs on SQLite: each run opens a store file, and the memory store already explores widely. */
const RUNS: Record<string, number> = { 'memory store': 40, 'SQLite store': 12 };

/** Gives every element a uuid (or only those that had one) unique in the document, in three spellings. */
function uniquify(document: S3Document, options: { everyElement: boolean }): S3Document {
  let counter = 0;
  const next = () => {
    counter += 1;
    return ['urn:uuid:rt-', 'rt-', 'peer.example.org/rt-'][counter % 3] + String(counter);
  };
  const visit = (resource: S3Resource, topLevel: boolean): S3Resource => {
    const copy: S3Resource = {
      ...resource,
      references: resource.references.map((reference) =>
        reference.inline ? { ...reference, inline: visit(reference.inline, false) } : reference,
      ),
      components: resource.components.map((component) => visit(component, false)),
    };
    if (options.everyElement || copy.uuid !== undefined) copy.uuid = next();
    if (copy.tuid !== undefined) copy.tuid = `${copy.tuid}#${counter}`;
    if (topLevel && copy.uuid === undefined) {
      // Lookups without uuid are matched by name: give each its own so the document does not
      // describe one record twice.
      copy.data = [...copy.data.filter((data) => data.field !== 'name'), text('name', `anonymous ${next()}`)];
    }
    return copy;
  };
  return { ...document, resources: document.resources.map((resource) => visit(resource, true)) };
}

/** Deleted stubs only apply to records the store has: give it an older live version of each. */
async function seedStubTargets(store: Store, document: S3Document): Promise<void> {
  const targets = document.resources.filter((resource) => resource.deleted && resource.uuid !== undefined);
  if (targets.length === 0) return;
  await seed(
    store,
    targets.map((resource) => ({ resource: resource.name, uuid: resource.uuid as string, modified_on: '1999-01-01T00:00:00' })),
  );
}

function exportedUid(uid: string): string {
  return uid.startsWith('urn:') || uid.includes('/') ? uid : `${DOMAIN}/${uid}`;
}

function byUuid(a: S3Resource, b: S3Resource): number {
  const left = `${a.name} ${a.uuid ?? ''}`;
  const right = `${b.name} ${b.uuid ?? ''}`;
  return left < right ? -1 : left > right ? 1 : 0;
}

function sortComponents(resource: S3Resource): S3Resource {
  return { ...resource, components: resource.components.map(sortComponents).sort(byUuid) };
}

/** What the exporter must give back for an element that went in (uuids present everywhere). */
function expectedExport(resource: S3Resource, alias: string | undefined): S3Resource {
  if (resource.deleted) {
    return {
      name: resource.name,
      uuid: exportedUid(resource.uuid as string),
      deleted: true,
      ...(resource.modified_on === undefined ? {} : { modified_on: resource.modified_on }),
      ...(resource.replaced_by === undefined ? {} : { replaced_by: exportedUid(resource.replaced_by) }),
      attributes: {},
      data: [],
      references: [],
      components: [],
    };
  }
  const references = resource.references.map((reference): S3Reference => {
    if (reference.uuid === undefined || !reference.uuid.startsWith('[')) return { ...reference, uuid: exportedUid(reference.uuid ?? '') };
    return { ...reference, uuid: JSON.stringify((JSON.parse(reference.uuid) as string[]).map(exportedUid)) };
  });
  const { tuid: _tuid, alias: _alias, ...rest } = resource;
  return {
    ...rest,
    ...(alias === undefined ? {} : { alias }),
    uuid: exportedUid(resource.uuid as string),
    mci: (resource.mci ?? 2) + 1,
    modified_on: resource.modified_on ?? NOW,
    references,
    components: resource.components.map((component) => expectedExport(component, component.alias)).sort(byUuid),
  };
}

/**
 * Every top-level record of the store, through S3XML text and back. Exporting a table gives its
 * component rows as masters too (as Eden does); those are left out here, they come nested.
 */
async function exportEverything(store: Store, domain: string): Promise<S3Resource[]> {
  const exported: S3Resource[] = [];
  for (const { resource } of await store.resources()) {
    const stream = exportResources(store, { resource, includeDeleted: true, dereference: false, domain });
    let xml = '';
    for await (const part of serializeS3XMLStream({}, stream)) xml += part;
    for (const master of (await parseS3XML(xml)).resources) {
      const uuid = (master.uuid ?? '').startsWith(`${domain}/`) ? (master.uuid ?? '').slice(domain.length + 1) : (master.uuid ?? '');
      if ((await store.getRecord(master.name, uuid))?.parent === undefined) exported.push(master);
    }
  }
  return exported.map(sortComponents).sort(byUuid);
}

function withoutMci(resource: S3Resource): S3Resource {
  const { mci: _mci, ...rest } = resource;
  return { ...rest, components: resource.components.map(withoutMci) };
}

function bump(resource: S3Resource): S3Resource {
  return {
    ...resource,
    ...(resource.mci === undefined ? {} : { mci: resource.mci + 1 }),
    components: resource.components.map(bump),
  };
}

for (const kind of storeKinds) {
  describe(`round trips through the ${kind.name}`, () => {
    it('S3XML → store → S3XML keeps every attribute, value, reference, component, tombstone and merge stub', async () => {
      await fc.assert(
        fc.asyncProperty(arbDocument({ tuids: false, inlineResources: false }), fc.integer({ min: 1, max: 4 }), async (generated, pageSize) => {
          const document = uniquify(generated, { everyElement: true });
          const store = await kind.open();
          try {
            await seedStubTargets(store, document);
            const xml = serializeS3XML(document);
            const result = await importS3XMLBytes(store, () => [xml], { clock: fixedClock, pageSize });
            assert.deepEqual(result.errors, []);
            assert.deepEqual(result.skipped, []);
            const exported = await exportEverything(store, DOMAIN);
            const expected = document.resources.map((resource) => expectedExport(resource, undefined)).sort(byUuid);
            assert.deepEqual(exported, expected);
          } finally {
            await store.close();
          }
        }),
        { numRuns: RUNS[kind.name] ?? 12 },
      );
    });

    it('importing the same generated document twice changes nothing the second time', async () => {
      await fc.assert(
        fc.asyncProperty(arbDocument(), async (generated) => {
          const document = uniquify(generated, { everyElement: false });
          const store = await kind.open();
          try {
            await seedStubTargets(store, document);
            const first = await importResources(store, document.resources, { clock: fixedClock, pageSize: 2 });
            assert.deepEqual(first.errors, []);
            const seq = await store.lastSeq();
            const second = await importResources(store, document.resources, { clock: fixedClock, pageSize: 3 });
            assert.deepEqual([second.created, second.updated, second.deleted, second.merged, second.conflicts, second.errors], [[], [], [], [], [], []]);
            assert.equal(await store.lastSeq(), seq);
          } finally {
            await store.close();
          }
        }),
        { numRuns: RUNS[kind.name] ?? 12 },
      );
    });

    it('what one store exports imports into another store unchanged (modulo mci + 1)', async () => {
      await fc.assert(
        fc.asyncProperty(arbDocument(), async (generated) => {
          const document = uniquify(generated, { everyElement: false });
          const first = await kind.open();
          const second = await kind.open();
          try {
            await importResources(first, document.resources, { clock: fixedClock });
            const exported = await exportEverything(first, DOMAIN);
            const result = await importResources(second, exported, { clock: fixedClock, localDomain: DOMAIN });
            assert.deepEqual(result.errors, []);
            assert.deepEqual(result.skipped, []);
            const again = await exportEverything(second, DOMAIN);
            assert.deepEqual(again, exported.map(bump));
            assert.deepEqual(again.map(withoutMci), exported.map(withoutMci));
          } finally {
            await first.close();
            await second.close();
          }
        }),
        { numRuns: RUNS[kind.name] ?? 12 },
      );
    });
  });
}
