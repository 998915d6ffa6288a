import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { localStatusOf, statusTarget, tokenAfter } from '../../../src/ushahidi/status-push.js';
import { closeTestEngine, sourceHarness, type SourceHarness } from './support.js';

after(() => closeTestEngine());

function firstPost(h: SourceHarness, test: (post: { id: number; status: string; verified: boolean }) => boolean): number {
  for (const post of h.fake.state.postsBetween()) if (test(post)) return post.id;
  throw new Error('the fake has no such post');
}

async function statusOf(h: SourceHarness, postId: number): Promise<string | null> {
  const ticket = await h.ticket(postId);
  assert.ok(ticket, `ticket of post ${postId}`);
  return localStatusOf(ticket, h.source.status_field);
}

describe('status tokens', () => {
  it('reads mapped values as the target each API takes', () => {
    assert.deepEqual(statusTarget('v5', 'archived'), { api: 'v5', status: 'archived' });
    assert.deepEqual(statusTarget('v2', 'approved verified'), { api: 'v2', approved: true, verified: true });
    assert.deepEqual(statusTarget('v2', 'unverified'), { api: 'v2', verified: false });
    assert.throws(() => statusTarget('v5', 'Verified'), /USHAHIDI_BAD_STATUS_TARGET|not a v5 status/);
    assert.throws(() => statusTarget('v2', 'approved unapproved'), /both ways/);
    assert.equal(tokenAfter('unapproved unverified', { api: 'v2', verified: true }), 'unapproved verified');
  });
});

describe('status push-back to a v5 deployment', () => {
  it('sends a changed ticket status to the fake exactly once', async () => {
    const h = await sourceHarness({ fake: { posts: 60 } });
    try {
      await h.sources.run(await h.record(), { trigger: 'test' });
      const postId = firstPost(h, (post) => post.status === 'published');
      assert.equal(await statusOf(h, postId), 'Verified', 'published reads as Verified by default');
      const untouched = firstPost(h, (post) => post.status === 'published' && post.id !== postId);

      h.fake.hooks.clearRequests();
      await h.setTicketStatus(postId, 'Actioned');
      await h.setTicketStatus(untouched, 'Actionable');
      const outcome = await h.sources.run(await h.record(), { trigger: 'test' });
      assert.equal(outcome.run.status, 'success', outcome.run.message);
      assert.equal(h.fake.state.post(postId)!.status, 'archived');
      const patches = h.fake.hooks.requests({ method: 'PATCH' });
      assert.deepEqual(patches.map((request) => request.path), [`/api/v5/posts/${postId}`], 'Actionable is already published: nothing sent');
      assert.equal(h.fake.state.statusChanges.filter((change) => change.postId === postId).length, 1);

      const again = await h.sources.run(await h.record(), { trigger: 'test' });
      assert.equal(again.run.status, 'success', again.run.message);
      assert.equal(h.fake.hooks.requests({ method: 'PATCH' }).length, 1, 'a second run sends nothing');
      assert.equal(await statusOf(h, postId), 'Actioned', 'the ticket keeps its value');
    } finally {
      await h.close();
    }
  });

  it('does not send a PATCH again when the answer to the first one was lost', async () => {
    const h = await sourceHarness({ fake: { posts: 30 } });
    try {
      await h.sources.run(await h.record(), { trigger: 'test' });
      const postId = firstPost(h, (post) => post.status === 'draft');
      await h.setTicketStatus(postId, 'Verified');
      h.fake.hooks.loseResponseNext({ method: 'PATCH' });
      h.fake.hooks.clearRequests();
      const outcome = await h.sources.run(await h.record(), { trigger: 'test' });
      assert.equal(outcome.run.status, 'success', outcome.run.message);
      assert.equal(h.fake.state.post(postId)!.status, 'published');
      assert.equal(h.fake.hooks.requests({ method: 'PATCH' }).length, 1, 're-read after the failure, not re-sent');
      assert.equal(outcome.run.counts.push_updated, 1);
    } finally {
      await h.close();
    }
  });

  it('sends nothing for a status the mapping has no Ushahidi word for, and says so', async () => {
    const h = await sourceHarness({ fake: { posts: 20 } });
    try {
      await h.sources.run(await h.record(), { trigger: 'test' });
      const postId = firstPost(h, (post) => post.status === 'published');
      await h.setTicketStatus(postId, 'Escalated');
      h.fake.hooks.clearRequests();
      const outcome = await h.sources.run(await h.record(), { trigger: 'test' });
      assert.equal(outcome.run.status, 'warning');
      assert.equal(outcome.run.counts.push_skipped, 1);
      assert.equal(h.fake.hooks.requests({ method: 'PATCH' }).length, 0, 'v5 would store any string: nothing unmapped is sent');
      const log = await h.store.listLog({ run_id: outcome.run.id });
      assert.ok(log.some((line) => line.mode === 'push/outgoing' && /no Ushahidi status for "Escalated"/.test(line.message)));
    } finally {
      await h.close();
    }
  });

  it('fails the run without moving the post when the account may not moderate', async () => {
    const h = await sourceHarness({ fake: { posts: 30 } });
    try {
      await h.sources.run(await h.record(), { trigger: 'test' });
      const postId = firstPost(h, (post) => post.status === 'published');
      // The same deployment, reached with a member's account: PATCH answers 500 "This action is unauthorized."
      const member = h.fake.state.users.find((user) => user.role === 'user')!;
      await h.sources.add({ name: 'haiti', url: h.fake.url, type: 'ushahidi-v5', username: member.email, password: member.password, check: false });
      await h.setTicketStatus(postId, 'Actioned');
      const outcome = await h.sources.run(await h.record(), { trigger: 'test' });
      assert.equal(outcome.run.status, 'error');
      assert.match(outcome.run.message ?? '', /USHAHIDI_FORBIDDEN/);
      assert.equal(h.fake.state.post(postId)!.status, 'published');
      const log = await h.store.listLog({ run_id: outcome.run.id });
      assert.ok(log.some((line) => line.mode === 'push/outgoing' && line.result === 'error' && line.remote));
    } finally {
      await h.close();
    }
  });
});

describe('status push-back to a classic v2 deployment', () => {
  it('flips the verified flag exactly once, reading before and after', async () => {
    const h = await sourceHarness({ fake: { posts: 60 }, source: { type: 'ushahidi-v2', username: 'admin', password: 'admin-password' } });
    try {
      const first = await h.sources.run(await h.record(), { trigger: 'test' });
      assert.equal(first.run.status, 'success', first.run.message);
      const postId = firstPost(h, (post) => post.status === 'published' && !post.verified);
      assert.equal(await statusOf(h, postId), 'Unverified');

      h.fake.hooks.clearRequests();
      await h.setTicketStatus(postId, 'Verified');
      const outcome = await h.sources.run(await h.record(), { trigger: 'test' });
      assert.equal(outcome.run.status, 'success', outcome.run.message);
      assert.equal(h.fake.state.post(postId)!.verified, true);
      assert.equal(h.fake.state.post(postId)!.status, 'published', 'still approved');
      const actions = h.fake.hooks.requests({ method: 'POST', path: '/api' });
      assert.deepEqual(
        actions.map((request) => [request.params.action, request.params.incident_id]),
        [['verify', String(postId)]],
      );
      const reads = h.fake.hooks.requests({ method: 'GET', path: '/api', where: (request) => request.params.task === 'reports' && request.params.id === String(postId) });
      assert.equal(reads.length, 2, 'one read before the toggle, one after');

      await h.sources.run(await h.record(), { trigger: 'test' });
      assert.equal(h.fake.hooks.requests({ method: 'POST', path: '/api' }).length, 1, 'the flag is toggled once, never back');
      assert.equal(h.fake.state.statusChanges.filter((change) => change.postId === postId).length, 1);
    } finally {
      await h.close();
    }
  });
});
