import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { engineLimits, loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('reads the oversized-record heap from SLUICE_RECORD_HEAP_MB and hands it to every engine with its name', () => {
    const config = loadConfig({}, { SLUICE_RECORD_HEAP_MB: '2048' });
    assert.equal(config.recordHeapMb, 2048);
    assert.deepEqual(engineLimits(config), { maxRecordHeapMb: 2048, maxRecordHeapSetting: 'SLUICE_RECORD_HEAP_MB' });
    assert.deepEqual(engineLimits(loadConfig({}, {})), { maxRecordHeapSetting: 'SLUICE_RECORD_HEAP_MB' }, 'unset: the engine picks from the RAM');
  });

  it('refuses a heap that is not a whole number of MiB, naming the setting', () => {
    for (const value of ['2G', '12.5', '10']) {
      assert.throws(
        () => loadConfig({}, { SLUICE_RECORD_HEAP_MB: value }),
        (error: { code?: string; message?: string; fix?: string }) => error.code === 'BAD_CONFIG' && /SLUICE_RECORD_HEAP_MB/.test(`${error.message} ${error.fix}`),
        value,
      );
    }
  });
});
