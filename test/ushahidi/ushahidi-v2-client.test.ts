import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { isSluiceError } from '../../src/errors.js';
import type { UshahidiPost } from '../../src/ushahidi/source.js';
import { UshahidiV2Client, readEnvelope, type UshahidiV2ClientOptions } from '../../src/ushahidi/ushahidi-v2-client.js';
import { createFakeUshahidi, type FakeUshahidi, type FakeUshahidiOptions } from '../../tools/fake-ushahidi/index.js';

interface Harness {
  fake: FakeUshahidi;
  waits: number[];
  client(overrides?: Partial<UshahidiV2ClientOptions>): UshahidiV2Client;
  close(): Promise<void>;
}

async function harness(options: FakeUshahidiOptions = {}): Promise<Harness> {
  const fake = await createFakeUshahidi(options);
  const agent = new Agent({ keepAliveTimeout: 1000 });
  const waits: number[] = [];
  return {
    fake,
    waits,
    client: (overrides = {}) =>
      new UshahidiV2Client({
        baseUrl: fake.url,
        username: fake.admin.username,
        password: fake.admin.password,
        timeZone: 'America/Port-au-Prince',
        dispatcher: agent,
        sleep: async (ms) => void waits.push(ms),
        random: () => 0,
        timeoutMs: 5000,
        ...overrides,
      }),
    close: async () => {
      await agent.destroy();
      await fake.close();
    },
  };
}

async function drain(client: UshahidiV2Client, cursor: number, pageSize: number, onPage?: () => void) {
  const posts: UshahidiPost[] = [];
  let next = cursor;
  for await (const page of client.fetchPostsSince(cursor, pageSize)) {
    posts.push(...page.posts);
    next = page.nextCursor;
    onPage?.();
  }
  return { posts, next };
}

const publishedIds = (fake: FakeUshahidi) => [...fake.state.postsBetween()].filter((p) => p.status === 'published').map((p) => p.id);

describe('Ushahidi v2 client against the fake', () => {
  describe('with 10 000 posts', () => {
    let h: Harness;
    before(async () => {
      h = await harness({ posts: 10_000 });
    });
    after(() => h.close());

    it('fetches every approved incident exactly once, with an ascending exclusive id cursor', async () => {
      const client = h.client();
      const { posts, next } = await drain(client, 0, 500);
      const ids = posts.map((p) => p.id);
      assert.deepEqual(ids, publishedIds(h.fake));
      assert.equal(new Set(ids).size, ids.length);
      assert.equal(next, Math.max(...ids));
      const calls = h.fake.hooks.requests({ path: '/api', task: 'incidents' });
      for (const call of calls) {
        assert.equal(call.params.by, 'sinceid');
        assert.equal(call.params.orderfield, 'incidentid');
        assert.equal(call.params.sort, '0');
      }
      const again = await drain(client, next, 500);
      assert.equal(again.posts.length, 0);
    });

    it('turns string values into numbers and local incident dates into UTC', async () => {
      const page = await h.client().fetchPostsSince(0, 20).next();
      assert.ok(!page.done);
      for (const post of page.value.posts) {
        const stored = h.fake.state.post(post.id)!;
        assert.equal(typeof post.id, 'number');
        // Port-au-Prince is UTC-5 in January 2010: the local text is 5 hours behind, the result is UTC again.
        assert.equal(post.created, new Date(stored.postDate * 1000).toISOString().slice(0, 19));
        assert.deepEqual(post.triage, { api: 'v2', approved: true, verified: stored.verified });
        if (stored.location) {
          assert.equal(post.lat, stored.location.lat);
          assert.equal(post.locationName, stored.location.name);
        }
        assert.deepEqual(post.categories.map((c) => c.id), stored.categoryIds);
        if (stored.values[4] !== undefined) assert.equal(post.values['People affected'], String(stored.values[4]));
      }
    });
  });

  it('picks up incidents approved or added during a fetch on the next fetch, once each', async () => {
    const h = await harness({ posts: 400 });
    try {
      const client = h.client();
      const first = await drain(client, 0, 50, () => {
        if (h.fake.hooks.requests({ task: 'incidents' }).length === 1) h.fake.hooks.addPosts([{ status: 'published' }, { status: 'draft' }]);
      });
      const added = h.fake.hooks.addPosts([{ status: 'published' }, { status: 'published' }]);
      const second = await drain(client, first.next, 50);
      assert.deepEqual(second.posts.map((p) => p.id), added.map((p) => p.id).filter((id) => !first.posts.some((p) => p.id === id)));
      const all = [...first.posts, ...second.posts].map((p) => p.id);
      assert.deepEqual(all, publishedIds(h.fake));
    } finally {
      await h.close();
    }
  });

  it('survives a page that fails twice with 500, then succeeds', async () => {
    const h = await harness({ posts: 300 });
    try {
      h.fake.hooks.failNext({ path: '/api', task: 'incidents', where: (r) => r.params.id !== '0' }, 2);
      const { posts } = await drain(h.client(), 0, 50);
      assert.deepEqual(posts.map((p) => p.id), publishedIds(h.fake));
      assert.equal(h.fake.hooks.requests({ task: 'incidents' }).filter((r) => r.fault === 'status').length, 2);
      assert.equal(h.waits.length, 2);
    } finally {
      await h.close();
    }
  });

  describe('status push', () => {
    let h: Harness;
    before(async () => {
      h = await harness({ posts: 80 });
    });
    after(() => h.close());

    const pick = (approved: boolean, verified: boolean) =>
      [...h.fake.state.postsBetween()].find(
        (p) => (p.status === 'published') === approved && p.verified === verified && !h.fake.state.statusChanges.some((c) => c.postId === p.id),
      )!.id;
    const actions = (id: number) => h.fake.hooks.requests({ method: 'POST', path: '/api' }).filter((r) => r.params.incident_id === String(id));

    it('flips the verify flag exactly once and sends nothing when it is already set', async () => {
      const client = h.client();
      const id = pick(true, false);
      assert.equal(await client.setStatus(id, { api: 'v2', verified: true }), 'changed');
      assert.equal(await client.setStatus(id, { api: 'v2', verified: true }), 'unchanged');
      assert.equal(h.fake.state.post(id)!.verified, true);
      assert.deepEqual(
        h.fake.state.statusChanges.filter((c) => c.postId === id).map((c) => c.via),
        ['v2-verify'],
      );
      assert.equal(actions(id).length, 1);
      assert.equal(actions(id)[0]!.params.task, 'reports', 'task travels in the form body');
    });

    it('approves and verifies an unapproved report with one action each', async () => {
      const client = h.client();
      const id = pick(false, false);
      assert.equal(await client.setStatus(id, { api: 'v2', approved: true, verified: true }), 'changed');
      assert.deepEqual(await client.getStatus(id), { api: 'v2', approved: true, verified: true });
      assert.deepEqual(actions(id).map((r) => r.params.action), ['approve', 'verify']);
    });

    it('does not toggle twice when the answer to a toggle was lost', async () => {
      const client = h.client();
      const id = pick(true, false);
      h.fake.hooks.loseResponseNext({ method: 'POST', path: '/api' });
      assert.equal(await client.setStatus(id, { api: 'v2', verified: true }), 'changed');
      assert.equal(actions(id).length, 1);
      assert.equal(h.fake.state.post(id)!.verified, true);
    });

    it('sends the toggle again after a 503, because a re-read shows it did not land', async () => {
      const client = h.client();
      const id = pick(true, false);
      h.fake.hooks.failNext({ method: 'POST', path: '/api' }, 1, { kind: 'status', status: 503 });
      assert.equal(await client.setStatus(id, { api: 'v2', verified: true }), 'changed');
      assert.equal(actions(id).length, 2);
      assert.equal(h.fake.state.statusChanges.filter((c) => c.postId === id).length, 1);
    });

    it('stops instead of fighting a moderator who toggled the same flag at the same time', async () => {
      const client = h.client();
      const id = pick(true, false);
      const stop = h.fake.hooks.onRequest((request) => {
        if (request.method === 'POST' && request.params.incident_id === String(id)) h.fake.hooks.setV2Flags(id, { verified: true });
      });
      try {
        await assert.rejects(
          client.setStatus(id, { api: 'v2', verified: true }),
          (error) => isSluiceError(error) && error.code === 'USHAHIDI_TOGGLE_UNCONFIRMED',
        );
      } finally {
        stop();
      }
      assert.equal(actions(id).length, 1);
    });

    it('sees flags changed behind its back, one by one and in the sweep', async () => {
      const client = h.client();
      const id = pick(true, false);
      h.fake.hooks.setV2Flags(id, { approved: false, verified: true });
      assert.deepEqual(await client.getStatus(id), { api: 'v2', approved: false, verified: true });
      const swept = new Map<number, unknown>();
      for await (const page of client.sweepStatuses(30)) for (const entry of page) swept.set(entry.id, entry.state);
      assert.equal(swept.size, h.fake.state.postCount, 'the admin sweep sees unapproved reports too');
      assert.deepEqual(swept.get(id), { api: 'v2', approved: false, verified: true });
      const before = actions(id).length;
      assert.equal(await client.setStatus(id, { api: 'v2', verified: true }), 'unchanged');
      assert.equal(actions(id).length, before);
    });

    it('reports wrong credentials on the admin task as USHAHIDI_AUTH_FAILED', async () => {
      await assert.rejects(h.client({ password: 'nope' }).getStatus(1), (error) => isSluiceError(error) && error.code === 'USHAHIDI_AUTH_FAILED');
      await assert.rejects(
        h.client({ username: undefined, password: undefined }).getStatus(1),
        (error) => isSluiceError(error) && error.code === 'USHAHIDI_CREDENTIALS_REQUIRED',
      );
    });

    it('reports an unknown incident as USHAHIDI_POST_NOT_FOUND', async () => {
      await assert.rejects(h.client().getStatus(987_654), (error) => isSluiceError(error) && error.code === 'USHAHIDI_POST_NOT_FOUND');
    });
  });

  it('reads all three envelope shapes by code', () => {
    assert.deepEqual(readEnvelope('{"code":"006","message":"Access denied"}', 't'), { code: '006', message: 'Access denied', payload: undefined });
    assert.equal(readEnvelope('{"error":{"code":"002","message":"Invalid Parameter"}}', 't').code, '002');
    const ok = readEnvelope('{"payload":{"domain":"http:\\/\\/x\\/","incidents":[]},"error":{"code":"0","message":"No Error"}}', 't');
    assert.equal(ok.code, '0');
    assert.equal(ok.payload?.domain, 'http://x/');
    assert.throws(() => readEnvelope('<html>', 't'), (error) => isSluiceError(error) && error.code === 'USHAHIDI_BAD_RESPONSE');
  });

  it('refuses a private deployment without credentials with USHAHIDI_ACCESS_DENIED', async () => {
    const h = await harness({ posts: 5, v2: { privateDeployment: true } });
    try {
      await assert.rejects(
        drain(h.client({ username: undefined, password: undefined }), 0, 10),
        (error) => isSluiceError(error) && error.code === 'USHAHIDI_ACCESS_DENIED',
      );
      const { posts } = await drain(h.client(), 0, 10);
      assert.deepEqual(posts.map((p) => p.id), publishedIds(h.fake));
    } finally {
      await h.close();
    }
  });

  it('keeps paging when the deployment silently caps the limit', async () => {
    const h = await harness({ posts: 200, v2: { maxRecordLimit: 15 } });
    try {
      const { posts } = await drain(h.client(), 0, 100);
      assert.deepEqual(posts.map((p) => p.id), publishedIds(h.fake));
    } finally {
      await h.close();
    }
  });
});
