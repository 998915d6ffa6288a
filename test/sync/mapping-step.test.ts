/**
 * The mapping step without a real engine: which instance a repository names, when the engine is
 * started, what a failed transform becomes, and how unmapped values are tallied.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SluiceError } from '../../src/errors.js';
import type { MappingDocument } from '../../src/formats/mapping-document.js';
import { MAPPING_MESSAGE_PREFIX } from '../../src/formats/mapping-generator.js';
import { describeUnmapped, SyncMappings } from '../../src/sync/mapping-step.js';
import type { TransformRequest, TransformResult } from '../../src/transform/engine.js';

const DOCUMENT: MappingDocument = {
  instance: 'gorkha',
  resources: [{ local: 'med_hospital', remote: 'hms_hospital', fields: [{ local: 'status', inbound: { values: { Functioning: '1' } } }] }],
};

function report(value: string): string {
  return `${MAPPING_MESSAGE_PREFIX}${JSON.stringify({ instance: 'gorkha', direction: 'inbound', resource: 'med_hospital', field: 'status', value, action: 'passed' })}`;
}

function fakeEngine(answer: (request: TransformRequest) => Promise<Partial<TransformResult>>) {
  const requests: TransformRequest[] = [];
  let started = 0;
  const factory = () => {
    started += 1;
    return {
      transform: async (request: TransformRequest): Promise<TransformResult> => {
        requests.push(request);
        return { output: '<s3xml/>', mediaType: 'application/xml', method: 'xml', messages: [], durationMs: 1, ...(await answer(request)) };
      },
      close: async () => undefined,
    };
  };
  return { factory, requests, started: () => started };
}

const repository = (config: Record<string, unknown>) => ({ name: 'Gorkha', config });

describe('the sync mapping step', () => {
  it('gives no mapping to a repository without one and starts no engine for it', async () => {
    const engine = fakeEngine(async () => ({}));
    const mappings = new SyncMappings({ readMapping: async () => DOCUMENT, engine: engine.factory });
    assert.equal(await mappings.forRepository(repository({})), undefined);
    assert.equal(engine.started(), 0);
  });

  it('refuses a mapping named by something other than a string', async () => {
    const mappings = new SyncMappings({ readMapping: async () => DOCUMENT, engine: fakeEngine(async () => ({})).factory });
    await assert.rejects(mappings.forRepository(repository({ mapping: 7 })), (error: SluiceError) => error.code === 'MAPPING_BAD_INSTANCE');
  });

  it('keeps the reader\'s code when the mapping cannot be read and names the repository', async () => {
    const mappings = new SyncMappings({
      readMapping: async () => {
        throw new SluiceError('MAPPING_NOT_FOUND', 'There is no mapping gorkha.json', { status: 404 });
      },
      engine: fakeEngine(async () => ({})).factory,
    });
    await assert.rejects(mappings.forRepository(repository({ mapping: 'gorkha' })), (error: SluiceError) => {
      assert.equal(error.code, 'MAPPING_NOT_FOUND');
      assert.match(error.message, /gorkha of repository Gorkha/);
      return true;
    });
  });

  it('sends a task\'s URL filters with the peer\'s field names and the values as written', async () => {
    const renaming: MappingDocument = {
      instance: 'gorkha',
      resources: [{ local: 'med_hospital', remote: 'hms_hospital', fields: [{ local: 'phone_exchange', remote: 'phone' }, { local: 'status' }] }],
    };
    const mappings = new SyncMappings({ readMapping: async () => renaming, engine: fakeEngine(async () => ({})).factory });
    const mapping = (await mappings.forRepository(repository({ mapping: 'gorkha' })))!;
    assert.deepEqual(mapping.remoteFilters('med_hospital', ['~.phone_exchange__like=01*', '~.phone_exchange=01-4412', '~.status!=Closed', '~.obsolete=False']), [
      '~.phone__like=01*',
      '~.phone=01-4412',
      '~.status!=Closed',
      '~.obsolete=False',
    ]);
    assert.deepEqual(mapping.remoteFilters('org_office', ['~.phone_exchange=1']), ['~.phone_exchange=1']);
  });

  it('names tables the peer\'s way, leaves pages without records alone and starts the engine once', async () => {
    const engine = fakeEngine(async (request) => ({
      output: '<s3xml><resource name="med_hospital"/></s3xml>',
      messages: request.params?.direction === 'inbound' ? [report('Evacuated'), report('Evacuated'), 'not a mapping report'] : [],
    }));
    const mappings = new SyncMappings({ readMapping: async () => DOCUMENT, engine: engine.factory });
    const mapping = (await mappings.forRepository(repository({ mapping: 'gorkha' })))!;
    assert.equal(mapping.remoteResource('med_hospital'), 'hms_hospital');
    assert.equal(mapping.remoteResource('org_office'), 'org_office');

    const empty = Buffer.from('<s3xml last_seq="9" more="false"/>');
    assert.equal(await mapping.inbound(empty), empty);
    assert.equal(engine.started(), 0);

    const mapped = await mapping.inbound(Buffer.from('<s3xml><resource name="hms_hospital"/></s3xml>'));
    await mapping.outbound(Buffer.from('<s3xml><resource name="med_hospital"/></s3xml>'));
    assert.equal(mapped.toString(), '<s3xml><resource name="med_hospital"/></s3xml>');
    assert.equal(engine.started(), 1);
    assert.deepEqual(engine.requests.map((request) => request.params?.direction), ['inbound', 'outbound']);

    const tally = mapping.takeUnmapped();
    assert.deepEqual(tally, [{ direction: 'inbound', resource: 'med_hospital', field: 'status', value: 'Evacuated', action: 'passed', count: 2 }]);
    assert.deepEqual(describeUnmapped(tally), ['unmapped status "Evacuated" ×2 (passed)']);
    assert.deepEqual(mapping.takeUnmapped(), []);
  });

  it('turns a failed transform into SYNC_MAPPING_FAILED with the engine\'s code', async () => {
    const engine = fakeEngine(async () => {
      throw new SluiceError('XSLT_TIMEOUT', 'the transform took longer than 30 s', { status: 500 });
    });
    const mapping = (await new SyncMappings({ readMapping: async () => DOCUMENT, engine: engine.factory }).forRepository(repository({ mapping: 'gorkha' })))!;
    await assert.rejects(mapping.inbound(Buffer.from('<s3xml><resource name="hms_hospital"/></s3xml>')), (error: SluiceError) => {
      assert.equal(error.code, 'SYNC_MAPPING_FAILED');
      assert.equal(error.details.mappingCode, 'XSLT_TIMEOUT');
      return true;
    });
  });

  it('keeps the engine\'s code and advice when a page is too big for the machine, not the mapping\'s fault', async () => {
    const engine = fakeEngine(async () => {
      throw new SluiceError('TRANSFORM_RECORD_TOO_LARGE', 'record med_hospital urn:uuid:big needs about 900 MB', {
        status: 413,
        severity: 'limit',
        fix: 'Raise SLUICE_RECORD_HEAP_MB',
      });
    });
    const mapping = (await new SyncMappings({ readMapping: async () => DOCUMENT, engine: engine.factory }).forRepository(repository({ mapping: 'gorkha' })))!;
    await assert.rejects(mapping.inbound(Buffer.from('<s3xml><resource name="hms_hospital"/></s3xml>')), (error: SluiceError) => {
      assert.equal(error.code, 'TRANSFORM_RECORD_TOO_LARGE');
      assert.equal(error.severity, 'limit');
      assert.match(error.fix ?? '', /SLUICE_RECORD_HEAP_MB/);
      assert.doesNotMatch(error.fix ?? '', /mapping editor/);
      return true;
    });
  });

  it('runs the same stylesheet while the mapping is unchanged and a new one from the run after it changed', async () => {
    let current: MappingDocument = DOCUMENT;
    const engine = fakeEngine(async () => ({}));
    const mappings = new SyncMappings({ readMapping: async () => current, engine: engine.factory });
    const input = Buffer.from('<s3xml><resource name="hms_hospital"/></s3xml>');
    await (await mappings.forRepository(repository({ mapping: 'gorkha' })))!.inbound(input);
    await (await mappings.forRepository(repository({ mapping: 'gorkha' })))!.inbound(input);
    current = { ...DOCUMENT, resources: [{ local: 'med_hospital', fields: [{ local: 'status', inbound: { values: { Functioning: '2' } } }] }] };
    await (await mappings.forRepository(repository({ mapping: 'gorkha' })))!.inbound(Buffer.from('<s3xml><resource name="med_hospital"/></s3xml>'));
    const texts = engine.requests.map((request) => ('text' in request.stylesheet ? request.stylesheet.text : ''));
    assert.equal(texts[0], texts[1]);
    assert.notEqual(texts[1], texts[2]);
    assert.match(texts[2]!, /'Functioning': '2'/);
  });
});
