import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { emptyPollTimings, pollCheckpointId } from '../../../src/ushahidi/poll-job.js';
import { localStatusOf } from '../../../src/ushahidi/status-push.js';
import { closeTestEngine, sourceHarness, type SourceHarness } from './support.js';

after(() => closeTestEngine());

async function ticketCount(h: SourceHarness): Promise<number> {
  return h.store.countRecords({ resource: h.source.resource });
}

async function cursorOf(h: SourceHarness): Promise<unknown> {
  return (await h.store.getCheckpoint(pollCheckpointId({ uuid: h.source.uuid, resource: h.source.resource })))?.value.cursor;
}

describe('the poll job against the fake Ushahidi (v5, over HTTP)', () => {
  it('imports 10 000 posts once, and re-polls add no duplicates', async () => {
    const h = await sourceHarness({ fake: { posts: 10_000 } });
    try {
      const first = await h.sources.run(await h.record(), { trigger: 'test' });
      assert.equal(first.run.status, 'success', first.run.message);
      assert.equal(first.run.counts.pull_records, 10_000);
      assert.equal(await ticketCount(h), 10_000);
      assert.equal(await cursorOf(h), 10_000);
      const ticket = await h.ticket(4242);
      assert.ok(ticket, 'tickets are named <deployment>/<post id>');
      assert.equal(ticket.mci, 0, 'Sluice holds the master copy of a polled ticket');
      assert.match(h.source.deployment, /^127\.0\.0\.1:\d+$/);

      const again = await h.sources.run(await h.record(), { trigger: 'test' });
      assert.equal(again.run.status, 'success', again.run.message);
      assert.equal(again.run.counts.pull_created ?? 0, 0);
      assert.equal(await ticketCount(h), 10_000);

      h.fake.hooks.addPosts(5);
      const third = await h.sources.run(await h.record(), { trigger: 'test' });
      assert.equal(third.run.status, 'success', third.run.message);
      assert.equal(await ticketCount(h), 10_005);
      assert.equal(await cursorOf(h), 10_005);
      const uuids = (await h.store.queryRecords({ resource: h.source.resource })).map((record) => record.uuid);
      assert.equal(new Set(uuids).size, 10_005, 'one ticket per post');
    } finally {
      await h.close();
    }
  });

  it('picks up posts that appear while a poll runs on the next poll, including an id that became visible late', async () => {
    let addDuringPoll: (() => void) | undefined;
    const h = await sourceHarness({
      fake: { posts: 250 },
      source: { pageSize: 100 },
      onTransform: () => {
        const add = addDuringPoll;
        addDuringPoll = undefined;
        add?.();
      },
    });
    try {
      const late = h.fake.state.post(245)!;
      h.fake.state.deletePost(245);
      let requestsSeen = 0;
      h.fake.hooks.onRequest((request) => {
        if (request.path !== '/api/v5/posts') return;
        requestsSeen += 1;
        // The third page is the last (50 posts < 100): once it is fetched this poll asks no more.
        if (requestsSeen === 3) {
          addDuringPoll = () => {
            h.fake.state.insertPost(late);
            h.fake.hooks.addPosts(3);
          };
        }
      });
      const first = await h.sources.run(await h.record(), { trigger: 'test' });
      assert.equal(first.run.status, 'success', first.run.message);
      assert.equal(addDuringPoll, undefined, 'the posts were added while the poll was transforming its last page');
      assert.equal(await ticketCount(h), 249);
      assert.equal(await h.ticket(245), undefined);

      const second = await h.sources.run(await h.record(), { trigger: 'test' });
      assert.equal(second.run.status, 'success', second.run.message);
      assert.equal(await ticketCount(h), 253);
      assert.ok(await h.ticket(245), 'the late id is inside the re-read overlap');
      for (const id of [251, 252, 253]) assert.ok(await h.ticket(id), `post ${id}`);
      assert.equal(second.run.counts.pull_created !== undefined && second.run.counts.pull_created >= 4, true);
    } finally {
      await h.close();
    }
  });

  it('fetches the next page while the current one is transformed and committed, and reports where the time went', async () => {
    const timings = emptyPollTimings();
    const h = await sourceHarness({ fake: { posts: 300 }, source: { pageSize: 100 }, readAhead: 1, pollTimings: timings });
    try {
      let cursorWhenSecondPageAsked: Promise<unknown> | undefined;
      h.fake.hooks.onRequest((request) => {
        if (request.path === '/api/v5/posts' && request.params.created_after_by_id === '100') cursorWhenSecondPageAsked = cursorOf(h);
      });
      const outcome = await h.sources.run(await h.record(), { trigger: 'test' });
      assert.equal(outcome.run.status, 'success', outcome.run.message);
      assert.equal(await ticketCount(h), 300);
      assert.ok(cursorWhenSecondPageAsked, 'the second page was asked for');
      assert.equal(await cursorWhenSecondPageAsked, undefined, 'before the first page was committed, even with one page of read-ahead');
      for (const phase of ['fetch', 'transform', 'parse', 'statuses', 'import'] as const) assert.ok(timings[phase] > 0, `${phase} was timed`);
    } finally {
      await h.close();
    }
  });

  it('survives a token that expires in the middle of a poll with one refresh', async () => {
    const h = await sourceHarness({ fake: { posts: 1_200 } });
    try {
      let lists = 0;
      h.fake.hooks.onRequest((request) => {
        if (request.path === '/api/v5/posts' && ++lists === 2) h.fake.hooks.expireTokens();
      });
      h.fake.hooks.clearRequests();
      const outcome = await h.sources.run(await h.record(), { trigger: 'test' });
      assert.equal(outcome.run.status, 'success', outcome.run.message);
      assert.equal(await ticketCount(h), 1_200);
      const logins = h.fake.hooks.requests({ path: '/oauth/token' });
      assert.deepEqual(
        logins.map((request) => request.params.grant_type),
        ['password', 'refresh_token'],
        'one login for the run, one refresh after the 401',
      );
      const refused = h.fake.hooks.requests({ path: '/api/v5/posts' }).filter((request) => request.status === 401);
      assert.equal(refused.length, 1);
      const captured = outcome.run.captures.find((capture) => capture.mode === 'login');
      assert.ok(captured, 'the login is in the run history');
      assert.doesNotMatch(captured.request_body ?? '', /admin-password/, 'without the password');
      assert.doesNotMatch(captured.response_body ?? '', /"access_token":"(?!\*\*\*)/, 'and without the token');
    } finally {
      await h.close();
    }
  });

  it('retries a page that fails twice with HTTP 500 and imports it, logging each retry', async () => {
    const h = await sourceHarness({ fake: { posts: 1_200 } });
    try {
      h.fake.hooks.failNext({ path: '/api/v5/posts', where: (request) => request.params.created_after_by_id === '500' }, 2);
      const outcome = await h.sources.run(await h.record(), { trigger: 'test' });
      assert.equal(outcome.run.status, 'success', outcome.run.message);
      assert.equal(await ticketCount(h), 1_200);
      const asked = h.fake.hooks.requests({ path: '/api/v5/posts', where: (request) => request.params.created_after_by_id === '500' });
      assert.deepEqual(
        asked.map((request) => request.status),
        [500, 500, 200],
      );
      const retries = await h.store.listLog({ run_id: outcome.run.id });
      assert.equal(retries.filter((line) => line.action === 'retry' && line.result === 'warning').length, 2);
    } finally {
      await h.close();
    }
  });

  it('keeps the pages committed before a page that keeps failing, and resumes after them', async () => {
    const h = await sourceHarness({ fake: { posts: 1_200 } });
    try {
      h.fake.hooks.failNext({ path: '/api/v5/posts', where: (request) => request.params.created_after_by_id === '1000' }, 20);
      const failed = await h.sources.run(await h.record(), { trigger: 'test' });
      assert.equal(failed.run.status, 'error');
      assert.match(failed.run.message ?? '', /USHAHIDI_UNAVAILABLE/);
      assert.equal(await ticketCount(h), 1_000, 'the two committed pages stay');
      assert.equal(await cursorOf(h), 1_000, 'the cursor moved with each committed page');

      h.fake.hooks.clearFaults();
      h.fake.hooks.clearRequests();
      const resumed = await h.sources.run(await h.record(), { trigger: 'test' });
      assert.equal(resumed.run.status, 'success', resumed.run.message);
      assert.equal(await ticketCount(h), 1_200);
      const first = h.fake.hooks.requests({ path: '/api/v5/posts' })[0]!;
      assert.equal(first.params.created_after_by_id, String(1_000 - 50), 'from the cursor, less the overlap');
    } finally {
      await h.close();
    }
  });

  it("applies the source's value mapping: categories become the instance's incident types, statuses its triage values", async () => {
    const h = await sourceHarness({
      fake: { posts: 80 },
      source: { mapping: 'haiti-eden' },
      mappings: {
        'haiti-eden': {
          instance: 'haiti-eden',
          resources: [
            { local: 'event_incident_type', fields: [{ local: 'name', inbound: { values: { 'Water shortage': 'Water Supply' } } }] },
            { local: 'event_incident_report', fields: [{ local: 'status', inbound: { values: { draft: 'New' } } }] },
          ],
        },
      },
    });
    try {
      const outcome = await h.sources.run(await h.record(), { trigger: 'test' });
      assert.equal(outcome.run.status, 'success', outcome.run.message);
      const types = (await h.store.queryRecords({ resource: 'event_incident_type' })).map((record) => record.data.find((d) => d.field === 'name')?.text);
      assert.ok(types.includes('Water Supply'), types.join(', '));
      assert.ok(!types.includes('Water shortage'));
      const draft = [...h.fake.state.postsBetween()].find((post) => post.status === 'draft')!;
      const published = [...h.fake.state.postsBetween()].find((post) => post.status === 'published')!;
      assert.equal(localStatusOf((await h.ticket(draft.id))!, 'status'), 'New', "the mapping's own value wins");
      assert.equal(localStatusOf((await h.ticket(published.id))!, 'status'), 'Verified', 'the default fills what it leaves out');
    } finally {
      await h.close();
    }
  });

  it('imports into irs_ireport when the source targets an older Eden', async () => {
    const h = await sourceHarness({ fake: { posts: 20 }, source: { resource: 'irs_ireport' } });
    try {
      const outcome = await h.sources.run(await h.record(), { trigger: 'test' });
      assert.equal(outcome.run.status, 'success', outcome.run.message);
      assert.equal(await h.store.countRecords({ resource: 'irs_ireport' }), 20);
      assert.equal(await h.store.countRecords({ resource: 'event_incident_report' }), 0);
      const ticket = await h.ticket(3);
      assert.ok(ticket?.data.some((data) => data.field === 'message'), 'the legacy layout');
    } finally {
      await h.close();
    }
  });
});
