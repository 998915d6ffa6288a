import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { isSluiceError } from '../../src/errors.js';
import { isStrictTimestamp } from '../../src/s3xml/timestamps.js';
import type { UshahidiPost } from '../../src/ushahidi/source.js';
import { UshahidiV5Client, type UshahidiV5ClientOptions } from '../../src/ushahidi/ushahidi-v5-client.js';
import { createFakeUshahidi, type FakeUshahidi, type FakeUshahidiOptions } from '../../tools/fake-ushahidi/index.js';

interface Harness {
  fake: FakeUshahidi;
  agent: Agent;
  waits: number[];
  client(overrides?: Partial<UshahidiV5ClientOptions>): UshahidiV5Client;
  close(): Promise<void>;
}

async function harness(options: FakeUshahidiOptions = {}): Promise<Harness> {
  const fake = await createFakeUshahidi(options);
  const agent = new Agent({ keepAliveTimeout: 1000 });
  const waits: number[] = [];
  return {
    fake,
    agent,
    waits,
    client: (overrides = {}) =>
      new UshahidiV5Client({
        baseUrl: fake.url,
        username: fake.admin.email,
        password: fake.admin.password,
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

async function drain(client: UshahidiV5Client, cursor: number, pageSize: number, onPage?: (posts: UshahidiPost[]) => void) {
  const posts: UshahidiPost[] = [];
  let next = cursor;
  let pages = 0;
  for await (const page of client.fetchPostsSince(cursor, pageSize)) {
    pages++;
    posts.push(...page.posts);
    assert.ok(page.nextCursor >= next, 'the cursor never moves back');
    next = page.nextCursor;
    onPage?.(page.posts);
  }
  return { posts, next, pages };
}

describe('Ushahidi v5 client against the fake', () => {
  describe('with 10 000 posts', () => {
    let h: Harness;
    before(async () => {
      h = await harness({ posts: 10_000 });
      // A hole in the id sequence, filled later: an id that commits after larger ones are visible.
      h.fake.state.deletePost(9990);
    });
    after(() => h.close());

    it('fetches every post exactly once, oldest first, without following the paginator links', async () => {
      const client = h.client();
      const { posts, next } = await drain(client, 0, 500);
      const ids = posts.map((p) => p.id);
      assert.equal(ids.length, 9999);
      assert.equal(new Set(ids).size, ids.length, 'no duplicates');
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
      assert.equal(next, 10_000);
      const statuses = new Set(posts.map((p) => p.status));
      assert.deepEqual([...statuses].sort(), ['archived', 'draft', 'published'], 'an admin sees every status');

      const lists = h.fake.hooks.requests({ method: 'GET', path: '/api/v5/posts' });
      assert.ok(lists.length >= 20);
      for (const request of lists) {
        assert.equal(request.params.page, '1');
        assert.equal(request.params.status, 'all');
        assert.ok(request.params.created_after_by_id !== undefined, 'every page is a keyset query');
      }

      // Each re-fetch re-reads the overlap window below the cursor; what it finds there was delivered already.
      for (let round = 0; round < 2; round++) {
        const again = await drain(client, next, 500);
        assert.equal(again.posts.length, 0, 're-fetching from the committed cursor repeats nothing');
      }
      const reread = h.fake.hooks.requests({ path: '/api/v5/posts' }).at(-1)!;
      assert.equal(reread.params.created_after_by_id, String(next - 50));
    });

    it('delivers an id that became visible late, inside the overlap window, once', async () => {
      const client = h.client();
      const first = await drain(client, 9000, 1000);
      // A fresh client knows nothing below the cursor, so it hands over the 50-id overlap too.
      assert.equal(first.posts.length, 50 + 999);
      assert.ok(!first.posts.some((p) => p.id === 9990));
      h.fake.hooks.addPosts([{ id: 9990, status: 'published' }]);
      const second = await drain(client, first.next, 1000);
      assert.deepEqual(second.posts.map((p) => p.id), [9990]);
      assert.equal(second.next, first.next);
      const third = await drain(client, second.next, 1000);
      assert.equal(third.posts.length, 0);
    });

    it('normalises +0000 dates to Eden timestamps and reads points, categories and survey fields', async () => {
      const client = h.client();
      const page = await client.fetchPostsSince(0, 50).next();
      assert.ok(!page.done);
      for (const post of page.value.posts) {
        assert.ok(isStrictTimestamp(post.created), post.created);
        const stored = h.fake.state.post(post.id)!;
        assert.equal(post.created, new Date(stored.created * 1000).toISOString().slice(0, 19));
        assert.equal(post.title, stored.title);
        assert.deepEqual(
          post.categories.map((c) => c.id),
          stored.categoryIds,
        );
        if (stored.location && stored.formId !== null) {
          assert.equal(post.lat, stored.location.lat);
          assert.equal(post.lon, stored.location.lon);
        }
        if (stored.values[4] !== undefined) assert.equal(post.values['People affected'], stored.values[4]);
        assert.equal(post.triage.api, 'v5');
      }
    });
  });

  it('picks up posts added during a fetch, each exactly once over two fetches', async () => {
    const h = await harness({ posts: 300 });
    try {
      const client = h.client();
      let added = 0;
      const first = await drain(client, 0, 100, () => {
        h.fake.hooks.addPosts(2);
        added += 2;
      });
      // Posts added after the last (short) page was read wait for the next fetch.
      h.fake.hooks.addPosts(3);
      added += 3;
      const second = await drain(client, first.next, 100);
      assert.ok(second.posts.length >= 3);
      const all = [...first.posts, ...second.posts].map((p) => p.id);
      assert.equal(all.length, 300 + added);
      assert.equal(new Set(all).size, all.length);
      assert.equal(second.next, h.fake.state.nextPostId() - 1);
    } finally {
      await h.close();
    }
  });

  it('refreshes a token that expires mid-fetch and finishes the fetch', async () => {
    const h = await harness({ posts: 500 });
    try {
      const client = h.client();
      let pages = 0;
      const { posts } = await drain(client, 0, 100, () => {
        if (++pages === 2) h.fake.hooks.expireTokens();
      });
      assert.equal(posts.length, 500);
      const grants = h.fake.hooks.requests({ path: '/oauth/token' }).map((r) => new URLSearchParams(r.body).get('grant_type'));
      assert.deepEqual(grants, ['password', 'refresh_token']);
      assert.equal(h.fake.hooks.requests({ path: '/api/v5/posts' }).filter((r) => r.status === 401).length, 1);
    } finally {
      await h.close();
    }
  });

  it('logs in again once when both the token and the refresh token are dead', async () => {
    const h = await harness({ posts: 250 });
    try {
      const client = h.client();
      let pages = 0;
      const { posts } = await drain(client, 0, 100, () => {
        if (++pages === 1) {
          h.fake.hooks.expireTokens();
          h.fake.hooks.revokeRefreshTokens();
        }
      });
      assert.equal(posts.length, 250);
      const grants = h.fake.hooks.requests({ path: '/oauth/token' }).map((r) => new URLSearchParams(r.body).get('grant_type'));
      assert.deepEqual(grants, ['password', 'refresh_token', 'password']);
    } finally {
      await h.close();
    }
  });

  it('renews a token before it expires, by the injected clock', async () => {
    let now = Date.parse('2024-05-02T09:00:00Z');
    const h = await harness({ posts: 30, now: () => now, tokenLifetimeSeconds: 3600 });
    try {
      const client = h.client({ clock: { now: () => new Date(now) } });
      await client.getStatus(1);
      now += 3590 * 1000;
      await client.getStatus(1);
      const grants = h.fake.hooks.requests({ path: '/oauth/token' }).map((r) => new URLSearchParams(r.body).get('grant_type'));
      assert.deepEqual(grants, ['password', 'refresh_token']);
      assert.equal(h.fake.hooks.requests().filter((r) => r.status === 401).length, 0, 'no request was sent with a dying token');
    } finally {
      await h.close();
    }
  });

  it('survives a page that fails twice with 500, then succeeds', async () => {
    const h = await harness({ posts: 250 });
    try {
      const client = h.client();
      let pages = 0;
      const { posts } = await drain(client, 0, 100, () => {
        if (++pages === 1) h.fake.hooks.failNext({ path: '/api/v5/posts' }, 2);
      });
      assert.equal(posts.length, 250);
      assert.equal(new Set(posts.map((p) => p.id)).size, 250);
      const faulted = h.fake.hooks.requests({ path: '/api/v5/posts' }).filter((r) => r.fault === 'status');
      assert.equal(faulted.length, 2);
      assert.equal(h.waits.length, 2, 'two backoffs');
    } finally {
      await h.close();
    }
  });

  it('retries a dropped socket and a stalled request', async () => {
    const h = await harness({ posts: 120 });
    try {
      const client = h.client({ timeoutMs: 300 });
      h.fake.hooks.dropNext({ path: '/api/v5/posts' });
      h.fake.hooks.stallNext({ path: '/api/v5/posts' });
      const { posts } = await drain(client, 0, 100);
      assert.equal(posts.length, 120);
      const faults = h.fake.hooks.requests({ path: '/api/v5/posts' }).map((r) => r.fault).filter(Boolean);
      assert.deepEqual(faults, ['drop', 'stall']);
    } finally {
      await h.close();
    }
  });

  it('honours Retry-After on a 429', async () => {
    const h = await harness({ posts: 10 });
    try {
      h.fake.hooks.failNext({ path: '/api/v5/posts' }, 1, { kind: 'status', status: 429, headers: { 'retry-after': '7' } });
      const { posts } = await drain(h.client(), 0, 100);
      assert.equal(posts.length, 10);
      assert.deepEqual(h.waits, [7000]);
    } finally {
      await h.close();
    }
  });

  describe('status push', () => {
    let h: Harness;
    before(async () => {
      h = await harness({ posts: 60 });
    });
    after(() => h.close());

    const draftId = () => [...h.fake.state.postsBetween()].find((p) => p.status === 'draft')!.id;

    it('sends one PATCH for a change, none when the status is already the target, and leaves `updated` alone', async () => {
      const client = h.client();
      const id = draftId();
      const updatedBefore = h.fake.state.post(id)!.updated;
      assert.equal(await client.setStatus(id, { api: 'v5', status: 'published' }), 'changed');
      assert.equal(await client.setStatus(id, { api: 'v5', status: 'published' }), 'unchanged');
      assert.equal(h.fake.state.post(id)!.status, 'published');
      assert.equal(h.fake.state.post(id)!.updated, updatedBefore);
      assert.equal(h.fake.state.statusChanges.filter((c) => c.postId === id).length, 1);
      assert.equal(h.fake.hooks.requests({ method: 'PATCH', path: `/api/v5/posts/${id}` }).length, 1);
    });

    it('re-reads after a PATCH whose answer was lost instead of sending it again', async () => {
      const client = h.client();
      const id = draftId();
      h.fake.hooks.loseResponseNext({ method: 'PATCH' });
      assert.equal(await client.setStatus(id, { api: 'v5', status: 'archived' }), 'changed');
      assert.equal(h.fake.hooks.requests({ method: 'PATCH', path: `/api/v5/posts/${id}` }).length, 1);
      assert.equal(h.fake.state.statusChanges.filter((c) => c.postId === id).length, 1);
    });

    it('retries a PATCH that failed with a 502 after checking it did not land', async () => {
      const client = h.client();
      const id = draftId();
      h.fake.hooks.failNext({ method: 'PATCH' }, 1, { kind: 'status', status: 502 });
      assert.equal(await client.setStatus(id, { api: 'v5', status: 'published' }), 'changed');
      assert.equal(h.fake.hooks.requests({ method: 'PATCH', path: `/api/v5/posts/${id}` }).length, 2);
      assert.equal(h.fake.state.statusChanges.filter((c) => c.postId === id).length, 1);
    });

    it('sees a status changed behind its back', async () => {
      const client = h.client();
      const id = draftId();
      h.fake.hooks.setStatus(id, 'archived');
      assert.deepEqual(await client.getStatus(id), { api: 'v5', status: 'archived' });
      let swept: string | undefined;
      for await (const page of client.sweepStatuses(25)) {
        const entry = page.find((e) => e.id === id);
        if (entry && entry.state.api === 'v5') swept = entry.state.status;
      }
      assert.equal(swept, 'archived');
      const patches = h.fake.hooks.requests({ method: 'PATCH' }).length;
      assert.equal(await client.setStatus(id, { api: 'v5', status: 'archived' }), 'unchanged');
      assert.equal(h.fake.hooks.requests({ method: 'PATCH' }).length, patches);
    });

    it('treats the 500 "This action is unauthorized." as a refusal and does not retry it', async () => {
      const member = h.fake.state.users.find((u) => u.role === 'user')!;
      const client = h.client({ username: member.email, password: member.password });
      // A member sees published posts and its own; pick a published one to move back to draft.
      const id = [...h.fake.state.postsBetween()].find((p) => p.status === 'published')!.id;
      const before = h.fake.hooks.requests({ method: 'PATCH' }).length;
      await assert.rejects(client.setStatus(id, { api: 'v5', status: 'draft' }), (error) => isSluiceError(error) && error.code === 'USHAHIDI_FORBIDDEN');
      assert.equal(h.fake.hooks.requests({ method: 'PATCH' }).length, before + 1);
      assert.equal(h.fake.state.post(id)!.status, 'published');
    });

    it('reports an unknown post as USHAHIDI_POST_NOT_FOUND', async () => {
      await assert.rejects(h.client().getStatus(999_999), (error) => isSluiceError(error) && error.code === 'USHAHIDI_POST_NOT_FOUND');
    });

    it('refuses v2 flags as a target', async () => {
      await assert.rejects(
        h.client().setStatus(1, { api: 'v2', verified: true }),
        (error) => isSluiceError(error) && error.code === 'USHAHIDI_WRONG_TRIAGE_TARGET',
      );
    });

    it('fails clearly on a wrong password, without retrying', async () => {
      const before = h.fake.hooks.requests({ path: '/oauth/token' }).length;
      await assert.rejects(
        h.client({ password: 'wrong' }).getStatus(1),
        (error) => isSluiceError(error) && error.code === 'USHAHIDI_LOGIN_FAILED',
      );
      assert.equal(h.fake.hooks.requests({ path: '/oauth/token' }).length, before + 1);
    });
  });
});
