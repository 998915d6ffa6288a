import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { S3Resource } from '../../src/s3xml/model.js';
import { isStrictTimestamp } from '../../src/s3xml/timestamps.js';
import { arbDocument, arbResource } from '../support/arbitrary-s3xml.js';

function* walk(resource: S3Resource): Generator<S3Resource> {
  yield resource;
  for (const reference of resource.references) if (reference.inline) yield* walk(reference.inline);
  for (const component of resource.components) yield* walk(component);
}

describe('the shared S3XML arbitraries', () => {
  const documents = fc.sample(arbDocument(), { numRuns: 400, seed: 42 });
  const resources = documents.flatMap((doc) => doc.resources.flatMap((resource) => [...walk(resource)]));
  const data = resources.flatMap((resource) => resource.data);
  const references = resources.flatMap((resource) => resource.references);
  const texts = [...data, ...references].flatMap((item) => (item.text === undefined ? [] : [item.text]));

  it('generate every feature the round-trip suites rely on', () => {
    const seen = {
      deletedStub: resources.some((r) => r.deleted === true && r.data.length === 0),
      mergeStub: resources.some((r) => r.deleted === true && r.replaced_by !== undefined),
      urnUuid: resources.some((r) => r.uuid?.startsWith('urn:uuid:')),
      tuid: resources.some((r) => r.tuid !== undefined),
      mci: resources.some((r) => r.mci !== undefined),
      extraAttributes: resources.some((r) => Object.keys(r.attributes).length > 1),
      componentWithAlias: resources.some((r) => r.components.some((c) => c.alias !== undefined)),
      nestedComponents: resources.some((r) => r.components.some((c) => c.components.length > 0)),
      dataWithValue: data.some((d) => d.value !== undefined && d.text !== undefined),
      dataWithoutValue: data.some((d) => d.value === undefined && d.text !== undefined),
      dataWithNothing: data.some((d) => d.value === undefined && d.text === undefined && d.attributes === undefined),
      upload: data.some((d) => d.attributes?.url !== undefined),
      jsonStringValue: data.some((d) => d.value?.startsWith('"')),
      jsonListValue: data.some((d) => d.value?.startsWith('[')),
      referenceList: references.some((r) => r.uuid?.startsWith('[')),
      referenceSingle: references.some((r) => r.uuid?.startsWith('urn:')),
      referenceByTuid: references.some((r) => r.tuid !== undefined),
      inlineResource: references.some((r) => r.inline !== undefined),
      coordinates: references.some((r) => r.attributes?.lat !== undefined),
      xmlSpecials: texts.some((t) => /[<&"']/.test(t)),
      carriageReturn: texts.some((t) => t.includes('\r')),
      devanagari: texts.some((t) => /[\u0900-\u097F]/.test(t)),
      arabic: texts.some((t) => /[\u0600-\u06FF]/.test(t)),
      astral: texts.some((t) => /[\u{10000}-\u{10FFFF}]/u.test(t)),
      emptyText: texts.some((t) => t === ''),
    };
    assert.deepEqual(Object.entries(seen).filter(([, present]) => !present), []);
  });

  it('generate only what the parser itself produces', () => {
    for (const resource of resources) {
      assert.match(resource.name, /^[a-z]+_[a-z_]+$/);
      for (const timestamp of [resource.created_on, resource.modified_on]) {
        if (timestamp !== undefined) assert.ok(isStrictTimestamp(timestamp), timestamp);
      }
      assert.notEqual(resource.deleted, false);
      assert.equal(Object.values(resource).includes(undefined), false);
      assert.equal(new Set(resource.data.map((d) => d.field)).size, resource.data.length);
    }
  });

  it('honour their options', () => {
    const flat = fc.sample(arbResource({ maxNesting: 0, deletedStubs: false, tuids: false, resourceNames: ['org_office'] }), { numRuns: 200, seed: 7 });
    for (const resource of flat) {
      assert.equal(resource.name, 'org_office');
      assert.equal(resource.components.length, 0);
      assert.equal(resource.deleted, undefined);
      assert.equal(resource.tuid, undefined);
      assert.ok(resource.references.every((r) => r.tuid === undefined && r.inline === undefined));
    }
  });
});
