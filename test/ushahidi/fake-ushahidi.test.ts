import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { createFakeUshahidi, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, type FakeUshahidi } from '../../tools/fake-ushahidi/index.js';

/** Contract tests for the fake itself: each quirk the reference lists, seen from the wire. */

interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** `any` on purpose: the tests poke into many differently shaped bodies. */
  json: () => any;
}

let agent: Agent;

async function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const res = await request(url, { method: (init.method ?? 'GET') as 'GET', headers: init.headers, body: init.body, dispatcher: agent });
  const text = await res.body.text();
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers[k] = v;
  return { status: res.statusCode, headers, text, json: () => JSON.parse(text) };
}

const JSON_ACCEPT = { accept: 'application/json' };

async function token(fake: FakeUshahidi, username: string, password: string): Promise<string> {
  const res = await call(`${fake.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...JSON_ACCEPT },
    body: JSON.stringify({ grant_type: 'password', client_id: DEFAULT_CLIENT_ID, client_secret: DEFAULT_CLIENT_SECRET, username, password, scope: '*' }),
  });
  assert.equal(res.status, 200, res.text);
  return res.json().access_token as string;
}

before(() => {
  agent = new Agent({ keepAliveTimeout: 1000 });
});
after(() => agent.destroy());

describe('fake Ushahidi: OAuth', () => {
  let fake: FakeUshahidi;
  before(async () => {
    fake = await createFakeUshahidi({ posts: 5 });
  });
  after(() => fake.close());

  const tokenCall = (fields: Record<string, string>) =>
    call(`${fake.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...JSON_ACCEPT },
      body: new URLSearchParams({ client_id: DEFAULT_CLIENT_ID, client_secret: DEFAULT_CLIENT_SECRET, ...fields }).toString(),
    });

  it('issues a bearer token with a refresh token for the password grant, by email', async () => {
    const res = await tokenCall({ grant_type: 'password', username: 'admin@example.org', password: 'admin-password', scope: '*' });
    assert.equal(res.status, 200);
    const body = res.json();
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 54000);
    assert.equal(body.access_token.split('.').length, 3, 'a JWT');
    assert.match(body.refresh_token, /^def50200/);
  });

  it('answers wrong credentials with 400 invalid_grant and a wrong client with 401 invalid_client', async () => {
    const wrong = await tokenCall({ grant_type: 'password', username: 'admin@example.org', password: 'x' });
    assert.equal(wrong.status, 400);
    assert.deepEqual(
      { error: wrong.json().error, message: wrong.json().message },
      { error: 'invalid_grant', message: 'The user credentials were incorrect.' },
    );
    const byUsername = await tokenCall({ grant_type: 'password', username: 'admin', password: 'admin-password' });
    assert.equal(byUsername.status, 400, 'Passport looks users up by email only');
    const client = await call(`${fake.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'password', client_id: DEFAULT_CLIENT_ID, client_secret: 'nope', username: 'admin@example.org', password: 'admin-password' }),
    });
    assert.equal(client.status, 401);
    assert.equal(client.json().error, 'invalid_client');
  });

  it('rotates refresh tokens and gives client_credentials no refresh token', async () => {
    const first = (await tokenCall({ grant_type: 'password', username: 'admin@example.org', password: 'admin-password' })).json();
    const refreshed = await tokenCall({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
    assert.equal(refreshed.status, 200);
    assert.notEqual(refreshed.json().refresh_token, first.refresh_token);
    const reused = await tokenCall({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
    assert.equal(reused.status, 401);
    const app = await tokenCall({ grant_type: 'client_credentials', scope: 'posts' });
    assert.equal(app.status, 200);
    assert.equal(app.json().refresh_token, undefined);
  });
});

describe('fake Ushahidi: v5 posts', () => {
  let fake: FakeUshahidi;
  let admin: string;
  let member: string;
  before(async () => {
    fake = await createFakeUshahidi({ posts: 120 });
    admin = await token(fake, 'admin@example.org', 'admin-password');
    member = await token(fake, 'member@example.org', 'member-password');
  });
  after(() => fake.close());

  const list = (query: string, bearer?: string) =>
    call(`${fake.url}/api/v5/posts?${query}`, { headers: { ...JSON_ACCEPT, ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) } });
  const all = () => [...fake.state.postsBetween()];

  it('shows guests published posts only, members their own too, admins everything', async () => {
    const guest = (await list('status=all&limit=0')).json();
    assert.equal(guest.meta.total, all().filter((p) => p.status === 'published').length);
    const mine = (await list('status=all&limit=0', member)).json();
    assert.equal(mine.meta.total, all().filter((p) => p.status === 'published' || p.userId === 2).length);
    const everything = (await list('status=all&limit=0', admin)).json();
    assert.equal(everything.meta.total, 120);
    assert.equal(everything.meta.per_page, 100000, 'limit=0 means 100000');
  });

  it('pages with an id cursor and paginator links that drop every filter', async () => {
    const res = (await list('status=draft,archived&created_after_by_id=10&orderby=id&order=asc&limit=5&page=1', admin)).json();
    const expected = all().filter((p) => p.id > 10 && p.status !== 'published');
    assert.equal(res.count, 5);
    assert.deepEqual(res.results.map((p: { id: number }) => p.id), expected.slice(0, 5).map((p) => p.id));
    assert.equal(res.meta.total, expected.length);
    assert.equal(res.links.next, `${fake.url}/api/v5/posts?page=2`);
    assert.equal(res.links.prev, null);
    assert.equal(res.meta.links[0].label, 'pagination.previous');
    assert.equal(res.meta.links.at(-1).label, 'pagination.next');
  });

  it('orders by id descending by default and accepts status as a PHP array', async () => {
    const res = (await list('status[]=draft&status[]=archived&limit=3', admin)).json();
    const expected = all().filter((p) => p.status !== 'published').map((p) => p.id).reverse().slice(0, 3);
    assert.deepEqual(res.results.map((p: { id: number }) => p.id), expected);
  });

  it('limits fields with only, keeping id, status and allowed_privileges', async () => {
    const res = (await list('only=id,title&limit=1', admin)).json();
    assert.deepEqual(Object.keys(res.results[0]).sort(), ['allowed_privileges', 'id', 'status', 'title']);
  });

  it('writes dates with +0000 and updated as null until a PUT', async () => {
    const post = all().find((p) => p.updated === null)!;
    const res = (await call(`${fake.url}/api/v5/posts/${post.id}?only=created,updated,post_date`, { headers: { ...JSON_ACCEPT, authorization: `Bearer ${admin}` } })).json();
    assert.match(res.result.created, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0000$/);
    assert.equal(res.result.updated, null);
  });

  it('answers an invalid token with 401 even on a public route', async () => {
    const res = await list('limit=1', 'not-a-token');
    assert.equal(res.status, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="OAuth"');
    assert.equal(res.json().errors[0].status, 401);
  });

  it('fails on an unknown orderby column with a 500 and renders errors as HTML without Accept: json', async () => {
    assert.equal((await list('orderby=nope', admin)).status, 500);
    const html = await call(`${fake.url}/api/v5/posts/99999`);
    assert.equal(html.status, 404);
    assert.match(html.headers['content-type']!, /text\/html/);
  });

  it('hides drafts from guests as 404 and refuses non-positive ids with 400', async () => {
    const draft = all().find((p) => p.status === 'draft')!;
    const hidden = await call(`${fake.url}/api/v5/posts/${draft.id}`, { headers: JSON_ACCEPT });
    assert.equal(hidden.status, 404);
    assert.deepEqual(hidden.json(), { errors: [{ status: 404, message: 'Post not found' }] });
    assert.equal((await call(`${fake.url}/api/v5/posts/0`, { headers: JSON_ACCEPT })).status, 400);
    assert.equal((await call(`${fake.url}/api/v5/posts/${draft.id}/status`, { headers: JSON_ACCEPT })).status, 404, 'no status route');
  });

  it('PATCHes status without validating it or bumping updated, and fires an event each time', async () => {
    const post = all().find((p) => p.updated === null && p.status === 'draft')!;
    const patch = (bearer: string | undefined, body: unknown, id = post.id) =>
      call(`${fake.url}/api/v5/posts/${id}`, {
        method: 'PATCH',
        headers: { ...JSON_ACCEPT, 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
        body: JSON.stringify(body),
      });
    assert.equal((await patch(undefined, { status: 'published' })).status, 401);
    const missing = await patch(admin, {});
    assert.equal(missing.status, 422);
    assert.equal(missing.json().messages, 'The V5 API requires a status for post status updates.');
    const denied = await patch(member, { status: 'published' });
    assert.deepEqual({ status: denied.status, body: denied.json() }, { status: 500, body: { error: 500, message: 'This action is unauthorized.' } });
    const unknown = await patch(admin, { status: 'published' }, 999_999);
    assert.deepEqual(unknown.json(), { error: 404, message: 'Not found' });

    const before = fake.state.statusChanges.length;
    const ok = await patch(admin, { status: 'verified' });
    assert.equal(ok.status, 200);
    assert.equal(ok.json().result.status, 'verified', 'stored unvalidated');
    assert.equal(ok.json().result.updated, null);
    await patch(admin, { status: 'verified' });
    assert.equal(fake.state.statusChanges.length, before + 2, 'a no-op PATCH still fires');
  });

  it('validates status on PUT and sets updated', async () => {
    const post = all().find((p) => p.updated === null)!;
    const put = (body: unknown) =>
      call(`${fake.url}/api/v5/posts/${post.id}`, {
        method: 'PUT',
        headers: { ...JSON_ACCEPT, 'content-type': 'application/json', authorization: `Bearer ${admin}` },
        body: JSON.stringify(body),
      });
    const bad = await put({ status: 'verified' });
    assert.equal(bad.status, 422);
    assert.equal(bad.json().errors.failed_validations[0].field, 'status');
    const good = await put({ status: 'archived' });
    assert.equal(good.status, 200);
    assert.match(good.json().result.updated, /\+0000$/);
  });
});

describe('fake Ushahidi: classic v2', () => {
  let fake: FakeUshahidi;
  before(async () => {
    fake = await createFakeUshahidi({ posts: 60 });
  });
  after(() => fake.close());

  const api = (query: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) => call(`${fake.url}/api?${query}`, init);
  const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
  const published = () => [...fake.state.postsBetween()].filter((p) => p.status === 'published');

  it('uses a different envelope for each kind of error, always with HTTP 200', async () => {
    const noTask = await api('');
    assert.equal(noTask.status, 200);
    assert.deepEqual(noTask.json(), { code: '001', message: 'Missing Parameter - task.' });
    const unknownTask = await api('task=nope&resp=xml');
    assert.deepEqual(unknownTask.json(), { error: { code: '999', message: 'Not Found' } }, 'JSON even when XML was asked for');
    assert.deepEqual(Object.keys((await api('task=incidents&by=nope')).json()), ['error']);
    const draft = [...fake.state.postsBetween()].find((p) => p.status === 'draft')!;
    const empty = (await api(`task=incidents&by=incidentid&id=${draft.id}`)).json();
    assert.equal(empty.error.code, '007');
    assert.equal(empty.payload.incidents, undefined);
    assert.equal(empty.payload.success, 'true');
  });

  it('treats sinceid as exclusive and returns the latest incident dates unless told to sort by id', async () => {
    const since = published()[2]!.id;
    const ascending = (await api(`task=incidents&by=sinceid&id=${since}&orderfield=incidentid&sort=0&limit=3`)).json();
    const ids = ascending.payload.incidents.map((i: { incident: { incidentid: string } }) => i.incident.incidentid);
    assert.deepEqual(ids, published().filter((p) => p.id > since).slice(0, 3).map((p) => String(p.id)));
    const byDate = (await api(`task=incidents&by=sinceid&id=${since}&limit=3`)).json();
    const newest = published().filter((p) => p.id > since).sort((a, b) => b.postDate - a.postDate).slice(0, 3).map((p) => String(p.id));
    assert.deepEqual(byDate.payload.incidents.map((i: { incident: { incidentid: string } }) => i.incident.incidentid), newest);
  });

  it('writes every value as a string, escapes slashes and non-ASCII like PHP, and keys custom fields by id', async () => {
    const res = await api('task=incidents&limit=100&sort=0&orderfield=incidentid');
    assert.match(res.text, /"domain":"http:\\\/\\\/127\.0\.0\.1:\d+\\\/"/);
    assert.ok(!/[^\x00-\x7f]/.test(res.text), 'ASCII only');
    const incidents = res.json().payload.incidents as Array<{ incident: Record<string, unknown>; customfields: unknown }>;
    for (const { incident, customfields } of incidents) {
      for (const value of Object.values(incident)) assert.ok(value === null || typeof value === 'string');
      assert.ok(Array.isArray(customfields) ? customfields.length === 0 : typeof customfields === 'object');
    }
  });

  it('writes XML on one line with the XML element names, omitting empty media and custom fields', async () => {
    const res = await api('task=incidents&limit=100&resp=xml');
    assert.match(res.headers['content-type']!, /text\/xml/);
    const body = res.text.split('\n')[1]!;
    assert.equal(res.text.split('\n').length, 2, 'declaration, then one line');
    assert.match(body, /^<response><payload><domain>/);
    assert.match(body, /<incident><id>\d+<\/id><title>/);
    const withoutMedia = published().find((p) => p.media.length === 0)!;
    const one = (await api(`task=incidents&by=incidentid&id=${withoutMedia.id}&resp=xml`)).text;
    assert.ok(!one.includes('<mediaItems>'));
    assert.ok(one.includes('<comments/>'));
  });

  it('reads only the form body on a POST', async () => {
    const res = await api('task=incidents', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'limit=1' });
    assert.deepEqual(res.json(), { code: '001', message: 'Missing Parameter - task.' });
  });

  it('protects task=reports with Basic auth and toggles approve and verify', async () => {
    const anonymous = await api('task=reports&by=all');
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers['www-authenticate'], 'Basic realm="Ushahidi API"');
    assert.equal(anonymous.json().error.code, '005');
    const viaGet = await api('task=reports&action=approve&incident_id=1', { headers: basic('admin', 'admin-password') });
    assert.equal(viaGet.json().error.code, '004');

    const post = [...fake.state.postsBetween()].find((p) => p.status === 'draft')!;
    const approve = () =>
      api('', {
        method: 'POST',
        headers: { ...basic('member@example.org', 'member-password'), 'content-type': 'application/x-www-form-urlencoded' },
        body: `task=reports&action=approve&incident_id=${post.id}`,
      });
    assert.deepEqual((await approve()).json().error, { code: '0', message: 'No Error' }, 'any logged-in user passes the admin check');
    assert.equal(fake.state.post(post.id)!.status, 'published');
    await approve();
    assert.equal(fake.state.post(post.id)!.status, 'draft', 'a second approve undoes the first');
    const unknown = await api('', {
      method: 'POST',
      headers: { ...basic('admin', 'admin-password'), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'task=reports&action=verify&incident_id=99999',
    });
    assert.deepEqual(unknown.json().error, { code: '003', message: 'Could not verify this report 99999' });
    assert.equal(unknown.json().payload.success, 'false');
  });

  it('enforces a per-address quota with a bare 006', async () => {
    const limited = await createFakeUshahidi({ posts: 3, v2: { maxRequestsPerIp: 2 } });
    try {
      await call(`${limited.url}/api?task=incidents`);
      await call(`${limited.url}/api?task=incidents`);
      assert.equal((await call(`${limited.url}/api?task=incidents`)).json().code, '006');
    } finally {
      await limited.close();
    }
  });

  it('behaves like Ushahidi 1.0 in the 1.0 flavour', async () => {
    const old = await createFakeUshahidi({ posts: 80, v2: { flavour: '1.0' } });
    try {
      assert.equal((await call(`${old.url}/api?task=incidents`)).json().error.code, '001');
      assert.equal((await call(`${old.url}/api?task=incidents&by=incidentid&id=1`)).json().error.code, '002');
      const since = (await call(`${old.url}/api?task=incidents&by=sinceid&id=0&limit=100`)).json();
      const ids = since.payload.incidents.map((i: { incident: { incidentid: string } }) => Number(i.incident.incidentid));
      assert.equal(ids.length, 20, 'capped at 20 whatever the limit');
      assert.ok(new Set(ids).size < ids.length || ids.every((id: number) => old.state.post(id)!.categoryIds.length === 1), 'one row per category');
      assert.ok(ids.every((id: number) => old.state.post(id)!.categoryIds.length > 0), 'uncategorised incidents are skipped');
      assert.equal(since.payload.incidents[0].categories, undefined);
      assert.equal(since.error.message, 'No Error.');
    } finally {
      await old.close();
    }
  });
});

describe('fake Ushahidi: hooks', () => {
  let fake: FakeUshahidi;
  before(async () => {
    fake = await createFakeUshahidi({ posts: 3 });
  });
  after(() => fake.close());

  it('fails exactly the next N matching requests and logs every request', async () => {
    fake.hooks.clearRequests();
    fake.hooks.failNext({ path: '/api/v5/posts' }, 2, { kind: 'status', status: 503, headers: { 'retry-after': '2' } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await call(`${fake.url}/api/v5/posts`, { headers: JSON_ACCEPT })).status);
    assert.deepEqual(statuses, [503, 503, 200]);
    assert.equal((await call(`${fake.url}/api?task=incidents`)).status, 200, 'other paths are untouched');
    assert.deepEqual(fake.hooks.requests().map((r) => r.fault ?? '-'), ['status', 'status', '-', '-']);
  });

  it('drops a socket and stalls a request on cue', async () => {
    fake.hooks.dropNext({ path: '/api', task: 'incidents' });
    await assert.rejects(call(`${fake.url}/api?task=incidents`));
    fake.hooks.stallNext({ path: '/api', task: 'incidents' }, 1, 150);
    const started = Date.now();
    assert.equal((await call(`${fake.url}/api?task=incidents`)).status, 200);
    assert.ok(Date.now() - started >= 140);
  });

  it('adds posts with fresh ids and changes statuses without going through the API', async () => {
    const [post] = fake.hooks.addPosts([{ title: 'Bridge down at Carrefour', status: 'draft' }]);
    assert.equal(post!.id, 4);
    fake.hooks.setStatus(4, 'published');
    const res = (await call(`${fake.url}/api/v5/posts/4?only=title`, { headers: JSON_ACCEPT })).json();
    assert.equal(res.result.title, 'Bridge down at Carrefour');
    assert.equal(fake.state.statusChanges.length, 0, 'behind-the-back changes fire no event');
  });
});
