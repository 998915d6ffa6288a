/**
 * A source wired as the gateway wires it (store, engine, secret box, lease holder), pointed at the
 * fake Ushahidi over real HTTP, with retries that do not sleep.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MappingDocument } from '../../../src/formats/mapping-document.js';
import { silentLogger } from '../../../src/logger.js';
import { createSecretBox, type SecretBox } from '../../../src/secrets.js';
import { systemClock } from '../../../src/s3xml/timestamps.js';
import { openSqliteStore } from '../../../src/store/sqlite-store.js';
import type { RepositoryRecord, Store, StoredRecord } from '../../../src/store/store.js';
import { createTransformEngine, type TransformEngine } from '../../../src/transform/engine.js';
import type { PollTimings } from '../../../src/ushahidi/poll-job.js';
import { createUshahidiSources, type SourceInput, type SourceView, type UshahidiSources } from '../../../src/ushahidi/sources.js';
import { createFakeUshahidi, type FakeUshahidi, type FakeUshahidiOptions } from '../../../tools/fake-ushahidi/index.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
/** Compiled stylesheets are cached by content hash; sharing the folder skips recompiling across runs. */
const CACHE_DIR = path.join(os.tmpdir(), 'sluice-transform-test-cache');

export interface SourceHarness {
  fake: FakeUshahidi;
  store: Store;
  sources: UshahidiSources;
  source: SourceView;
  secrets: SecretBox;
  record(): Promise<RepositoryRecord>;
  ticket(postId: number): Promise<StoredRecord | undefined>;
  /** Writes the ticket's status as an Eden peer's push or the REST API would (a new seq, a new modified_on). */
  setTicketStatus(postId: number, value: string): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  fake?: FakeUshahidiOptions;
  source?: Partial<SourceInput>;
  mappings?: Record<string, MappingDocument>;
  transformBatch?: number;
  readAhead?: number;
  /** Filled by every poll of the harness's source. */
  pollTimings?: PollTimings;
  /** Called as each transform starts (a post added then arrives after the poll's last request). */
  onTransform?: () => void;
}

let sharedEngine: TransformEngine | undefined;

/** One engine per test file: its threads and compiled stylesheets are reused by every harness. */
export function testEngine(): TransformEngine {
  sharedEngine ??= createTransformEngine({ stylesheetsDir: path.join(REPO, 'stylesheets'), cacheDir: CACHE_DIR, workers: 2, timeoutMs: 60_000 });
  return sharedEngine;
}

export async function closeTestEngine(): Promise<void> {
  await sharedEngine?.close();
  sharedEngine = undefined;
}

export async function sourceHarness(options: HarnessOptions = {}): Promise<SourceHarness> {
  const fake = await createFakeUshahidi(options.fake ?? { posts: 50 });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-ushahidi-jobs-'));
  const store = await openSqliteStore({ file: path.join(dir, 'sluice.db') });
  const engine = testEngine();
  const secrets = createSecretBox(randomBytes(32));
  const sources = createUshahidiSources({
    store,
    clock: systemClock,
    logger: silentLogger(),
    secrets,
    holder: `test-host:${process.pid}:${randomBytes(2).toString('hex')}`,
    leaseTtlMs: 60_000,
    // The harness owns the shared engine; closing the sources must not close it.
    engine: () => ({
      transform: (request) => {
        options.onTransform?.();
        return engine.transform(request);
      },
      transformStream: (request, write) => engine.transformStream(request, write),
      prepare: (stylesheet) => engine.prepare(stylesheet),
      close: async () => undefined,
    }),
    importStylesheet: path.join(REPO, 'stylesheets', 'ushahidi', 'import.xsl'),
    readMapping: async (instance) => {
      const document = options.mappings?.[instance];
      if (!document) throw new Error(`no mapping ${instance} in this test`);
      return document;
    },
    retry: { sleep: async () => undefined, random: () => 0 },
    ...(options.transformBatch === undefined ? {} : { transformBatch: options.transformBatch }),
    ...(options.readAhead === undefined ? {} : { readAhead: options.readAhead }),
    ...(options.pollTimings === undefined ? {} : { pollTimings: options.pollTimings }),
  });
  const type = options.source?.type ?? 'ushahidi-v5';
  const source = await sources.add({
    name: 'haiti',
    url: fake.url,
    type,
    username: fake.admin.email,
    password: fake.admin.password,
    ...options.source,
  });
  const deployment = source.deployment;
  return {
    fake,
    store,
    sources,
    source,
    secrets,
    record: () => sources.resolve(source.uuid),
    ticket: (postId) => store.getRecord(source.resource, `${deployment}/${postId}`),
    async setTicketStatus(postId, value) {
      const ticket = await store.getRecord(source.resource, `${deployment}/${postId}`);
      if (!ticket) throw new Error(`no ticket for post ${postId}`);
      const { seq: _seq, ...rest } = ticket;
      await store.putRecord({
        ...rest,
        modified_on: new Date().toISOString().slice(0, 19),
        data: [...ticket.data.filter((d) => d.field !== source.status_field), { field: source.status_field, text: value, attributes: {} }],
      });
    },
    async close() {
      await sources.close();
      await store.close();
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
