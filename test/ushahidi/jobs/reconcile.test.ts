import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { localStatusOf } from '../../../src/ushahidi/status-push.js';
import { closeTestEngine, sourceHarness, type SourceHarness } from './support.js';

after(() => closeTestEngine());

function firstPost(h: SourceHarness, test: (post: { id: number; status: string; verified: boolean }) => boolean): number {
  for (const post of h.fake.state.postsBetween()) if (test(post)) return post.id;
  throw new Error('the fake has no such post');
}

async function statusOf(h: SourceHarness, postId: number): Promise<string | null> {
  const ticket = await h.ticket(postId);
  assert.ok(ticket);
  return localStatusOf(ticket, h.source.status_field);
}

describe('the reconcile job', () => {
  it('catches a v5 status changed behind its back, which neither a poll nor a timestamp reveals', async () => {
    const h = await sourceHarness({ fake: { posts: 40 } });
    try {
      await h.sources.run(await h.record(), { trigger: 'test' });
      const postId = firstPost(h, (post) => post.status === 'published');
      const before = await h.ticket(postId);
      h.fake.hooks.setStatus(postId, 'archived');

      const polled = await h.sources.run(await h.record(), { trigger: 'test' });
      assert.equal(polled.run.status, 'success', polled.run.message);
      assert.equal(await statusOf(h, postId), 'Verified', 'a poll only asks for new ids');

      h.fake.hooks.clearRequests();
      const reconciled = await h.sources.reconcile('haiti', { trigger: 'test' });
      assert.equal(reconciled.run.status, 'success', reconciled.run.message);
      assert.equal(reconciled.reconcile?.pulled.records, 1);
      assert.equal(reconciled.reconcile?.checked, 40);
      const after = await h.ticket(postId);
      assert.equal(localStatusOf(after!, h.source.status_field), 'Actioned');
      assert.ok(after!.modified_on > before!.modified_on, 'stamped now, so Eden peers pulling by msince see it');
      assert.equal(h.fake.hooks.requests({ method: 'PATCH' }).length, 0, 'nothing is sent back');

      const next = await h.sources.run(await h.record(), { trigger: 'test' });
      assert.equal(next.run.counts.push_records ?? 0, 0, 'the change is not echoed to Ushahidi');
      assert.equal(h.fake.hooks.requests({ method: 'PATCH' }).length, 0);
      const log = await h.store.listLog({ run_id: reconciled.run.id });
      assert.ok(log.some((line) => line.action === 'reconcile' && /1 changed in Ushahidi/.test(line.message)));
    } finally {
      await h.close();
    }
  });

  it('catches a v2 flag toggled by a moderator', async () => {
    const h = await sourceHarness({ fake: { posts: 40 }, source: { type: 'ushahidi-v2', username: 'admin', password: 'admin-password' } });
    try {
      await h.sources.run(await h.record(), { trigger: 'test' });
      const postId = firstPost(h, (post) => post.status === 'published' && !post.verified);
      h.fake.hooks.setV2Flags(postId, { verified: true });
      const reconciled = await h.sources.reconcile('haiti', { trigger: 'test' });
      assert.equal(reconciled.run.status, 'success', reconciled.run.message);
      assert.equal(await statusOf(h, postId), 'Verified');
    } finally {
      await h.close();
    }
  });

  it("keeps Sluice's value when both sides changed, and sends it", async () => {
    const h = await sourceHarness({ fake: { posts: 40 } });
    try {
      await h.sources.run(await h.record(), { trigger: 'test' });
      const postId = firstPost(h, (post) => post.status === 'published');
      // Sent later by the push; the moderator changes the post first.
      await h.setTicketStatus(postId, 'Actioned');
      h.fake.hooks.setStatus(postId, 'draft');
      const reconciled = await h.sources.reconcile('haiti', { trigger: 'test' });
      assert.equal(reconciled.run.status, 'warning', 'a change on both sides is reported');
      assert.equal(reconciled.reconcile?.conflicts, 1);
      assert.equal(h.fake.state.post(postId)!.status, 'archived');
      assert.equal(await statusOf(h, postId), 'Actioned');
      const again = await h.sources.reconcile('haiti', { trigger: 'test' });
      assert.equal(again.run.status, 'success', again.run.message);
      assert.equal(again.reconcile?.pushed.records, 0);
    } finally {
      await h.close();
    }
  });
});
