import { bodyParams, json, listParam, strtotime, type FakeRequest, type FakeResponse } from './http-util.js';
import { resolveBearer } from './oauth.js';
import type { FakePost, FakeState } from './state.js';
import { canSeePost, categoryResource, serializePost, type Viewer } from './v5-serialize.js';

/** Platform v5 `/api/v5/posts*` with the behaviours the reference lists as traps. */

export interface V5Settings {
  /** The real PATCH turns a policy denial into HTTP 500 "This action is unauthorized."; false gives 403. */
  forbiddenPatchAs500: boolean;
}

const errors = (status: number, message: string, headers: Record<string, string> = {}): FakeResponse =>
  json(status, { errors: [{ status, message }] }, headers);

const UNAUTHORIZED = 'This action is unauthorized.';

/** Columns `orderby` may name; anything else reaches MySQL unvalidated and fails there. */
const SORTABLE: Record<string, (p: FakePost) => number | string | null> = {
  id: (p) => p.id,
  created: (p) => p.created,
  updated: (p) => p.updated,
  post_date: (p) => p.postDate,
  title: (p) => p.title,
  status: (p) => p.status,
  form_id: (p) => p.formId,
  user_id: (p) => p.userId,
  slug: (p) => p.slug,
  source: (p) => p.source,
  locale: (p) => p.locale,
  type: () => 'report',
};

function intParam(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  // PHP's (int) cast: leading digits count, anything else is 0.
  const match = /^\s*-?\d+/.exec(value);
  return match ? Number(match[0]) : 0;
}

type Auth = { viewer: Viewer; scopes: string[] | undefined; authenticated: boolean };

function authenticate(req: FakeRequest, state: FakeState): Auth | FakeResponse {
  const bearer = resolveBearer(req, state);
  if (bearer.kind === 'invalid') return errors(401, bearer.message, { 'www-authenticate': 'Bearer realm="OAuth"' });
  if (bearer.kind === 'anonymous') return { viewer: { role: 'guest', userId: null }, scopes: undefined, authenticated: false };
  // A client_credentials token has no user: lists treat it as a guest.
  const user = bearer.user;
  const viewer: Viewer = user ? { role: user.role, userId: user.id } : { role: 'guest', userId: null };
  return { viewer, scopes: bearer.token.scopes, authenticated: true };
}

/** `scope:posts` is only checked when an Authorization header was sent. */
function lacksPostsScope(auth: Auth): boolean {
  return auth.scopes !== undefined && !auth.scopes.includes('*') && !auth.scopes.includes('posts');
}

/** Parses the filters once per request into one predicate (the list walks thousands of posts). */
function compileFilters(query: URLSearchParams, viewer: Viewer): (post: FakePost) => boolean {
  const checks: Array<(post: FakePost) => boolean> = [(post) => canSeePost(viewer, post)];
  const statuses = listParam(query, 'status');
  if (statuses && statuses.length > 0 && !statuses.includes('all')) checks.push((post) => statuses.includes(post.status));
  const types = listParam(query, 'type');
  if (types && types.length > 0 && !types.includes('report')) checks.push(() => false);
  const timeFilter = (name: string, test: (created: number, t: number) => boolean) => {
    const raw = query.get(name);
    const t = raw === null ? undefined : strtotime(raw);
    if (t !== undefined) checks.push((post) => test(post.created, t));
  };
  timeFilter('created_after', (created, t) => created > t);
  timeFilter('created_before', (created, t) => created < t);
  // date_after/date_before compare `created` too, despite their names.
  timeFilter('date_after', (created, t) => created > t);
  timeFilter('date_before', (created, t) => created < t);
  // The value goes through strtotime twice; the second call fails and the filter becomes `updated > 0`.
  if (query.get('updated_after') !== null) checks.push((post) => post.updated !== null && post.updated > 0);
  if (query.get('updated_before') !== null) checks.push(() => false);
  const forms = listParam(query, 'form');
  if (forms && forms.length > 0) {
    const includeUnstructured = query.get('include_unstructured_posts') !== 'false';
    checks.push((post) => {
      const wanted = forms.includes('none') ? post.formId === null : post.formId !== null && forms.includes(String(post.formId));
      return wanted || (includeUnstructured && post.formId === null);
    });
  }
  const anyTags = listParam(query, 'tags') ?? listParam(query, 'tags[any]');
  if (anyTags && anyTags.length > 0) checks.push((post) => post.categoryIds.some((id) => anyTags.includes(String(id))));
  const allTags = listParam(query, 'tags[all]');
  if (allTags && allTags.length > 0) checks.push((post) => allTags.every((id) => post.categoryIds.includes(Number(id))));
  const sources = listParam(query, 'source');
  if (sources && sources.length > 0) checks.push((post) => sources.includes(post.source));
  const q = query.get('q');
  if (q !== null && q !== '') {
    const needle = q.toLowerCase();
    checks.push((post) =>
      /^\d+$/.test(q) ? post.id === Number(q) : post.title.toLowerCase().includes(needle) || post.content.toLowerCase().includes(needle),
    );
  }
  const hasLocation = query.get('has_location');
  if (hasLocation === 'mapped') checks.push((post) => post.location !== null);
  if (hasLocation === 'unmapped') checks.push((post) => post.location === null);
  return (post) => checks.every((check) => check(post));
}

interface PageLink {
  url: string | null;
  label: string;
  active: boolean;
}

/** Laravel 8's UrlWindow: every page when there are few, else a slider with "..." gaps. */
function pageNumbers(current: number, last: number): Array<number | '...'> {
  const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
  const onEachSide = 3;
  const window = onEachSide + 4;
  if (last < onEachSide * 2 + 8) return range(1, last);
  if (current <= window) return [...range(1, window + onEachSide), '...', ...range(last - 1, last)];
  if (current > last - window) return [...range(1, 2), '...', ...range(last - (window + (onEachSide - 1)), last)];
  return [...range(1, 2), '...', ...range(current - onEachSide, current + onEachSide), '...', ...range(last - 1, last)];
}

function listPosts(req: FakeRequest, state: FakeState, auth: Auth): FakeResponse {
  const query = req.query;
  const orderby = query.get('orderby') ?? 'id';
  const sortKey = SORTABLE[orderby];
  if (!sortKey) {
    return errors(500, `SQLSTATE[42S22]: Column not found: 1054 Unknown column 'posts.${orderby}' in 'order clause'`);
  }
  const orderRaw = (query.get('order') ?? 'desc').toLowerCase();
  if (orderRaw !== 'asc' && orderRaw !== 'desc') return errors(500, 'Order direction must be "asc" or "desc".');
  const limitParam = intParam(query.get('limit'));
  const perPage = limitParam === undefined ? 20 : limitParam <= 0 ? 100_000 : limitParam;
  const page = Math.max(1, intParam(query.get('page')) ?? 1);

  const afterId = intParam(query.get('created_after_by_id'));
  const beforeId = intParam(query.get('created_before_by_id'));
  const matches = compileFilters(query, auth.viewer);
  const matching: FakePost[] = [];
  for (const post of state.postsBetween(afterId ?? -Infinity, beforeId ?? Infinity)) {
    if (matches(post)) matching.push(post);
  }
  if (orderby !== 'id') {
    matching.sort((a, b) => {
      const x = sortKey(a);
      const y = sortKey(b);
      if (x === y) return a.id - b.id;
      if (x === null) return -1;
      if (y === null) return 1;
      return x < y ? -1 : 1;
    });
  }
  if (orderRaw === 'desc') matching.reverse();

  const total = matching.length;
  const lastPage = Math.max(1, Math.ceil(total / perPage));
  const slice = matching.slice((page - 1) * perPage, page * perPage);
  const only = query.get('only');
  const onlySet = only ? new Set(only.split(',').map((s) => s.trim())) : undefined;
  const results = slice.map((post) => serializePost(post, state, auth.viewer, onlySet));
  // The paginator is not given the query string, so every link carries `page` alone.
  const path = `${req.origin}/api/v5/posts`;
  const pageUrl = (n: number) => `${path}?page=${n}`;
  const links: PageLink[] = [{ url: page > 1 ? pageUrl(page - 1) : null, label: 'pagination.previous', active: false }];
  for (const n of pageNumbers(page, lastPage)) {
    links.push(n === '...' ? { url: null, label: '...', active: false } : { url: pageUrl(n), label: String(n), active: n === page });
  }
  links.push({ url: page < lastPage ? pageUrl(page + 1) : null, label: 'pagination.next', active: false });
  const from = slice.length > 0 ? (page - 1) * perPage + 1 : null;
  return json(200, {
    count: results.length,
    results,
    links: {
      first: pageUrl(1),
      last: pageUrl(lastPage),
      prev: page > 1 ? pageUrl(page - 1) : null,
      next: page < lastPage ? pageUrl(page + 1) : null,
    },
    meta: {
      current_page: page,
      from,
      last_page: lastPage,
      links,
      path,
      per_page: perPage,
      to: from === null ? null : from + slice.length - 1,
      total,
    },
  });
}

function canChangeStatus(viewer: Viewer): boolean {
  return viewer.role === 'admin';
}

function patchPost(req: FakeRequest, state: FakeState, auth: Auth, id: number, settings: V5Settings): FakeResponse {
  if (!auth.authenticated) return errors(401, 'Unauthorized.');
  const post = state.post(id);
  if (!post) return json(404, { error: 404, message: 'Not found' });
  const params = bodyParams(req);
  const status = params.status;
  if (status === undefined || status === null || status === '') {
    return json(422, { error: 422, messages: 'The V5 API requires a status for post status updates.', type: 'entity' });
  }
  if (!canChangeStatus(auth.viewer)) {
    return settings.forbiddenPatchAs500
      ? json(500, { error: 500, message: UNAUTHORIZED })
      : json(403, { error: 403, message: UNAUTHORIZED });
  }
  // Stored as sent (varchar(20), no validation), `updated` untouched, an event fired even for a no-op.
  const from = post.status;
  post.status = String(status).slice(0, 20);
  state.recordStatusChange({ postId: post.id, via: 'v5-patch', field: 'status', from, to: post.status });
  return json(200, { result: serializePost(post, state, auth.viewer) });
}

const STATUSES = ['draft', 'published', 'archived'];

function validationFailed(field: string, message: string): FakeResponse {
  return json(422, {
    errors: {
      status: 422,
      message: 'please recheck the your inputs',
      failed_validations: [{ field, error_messages: [message] }],
    },
  });
}

function putPost(req: FakeRequest, state: FakeState, auth: Auth, id: number): FakeResponse {
  if (!auth.authenticated) return errors(401, 'Unauthorized.');
  const post = state.post(id);
  if (!post) return json(404, { error: 404, message: 'Not found' });
  if (!canChangeStatus(auth.viewer)) return json(403, { error: 403, message: UNAUTHORIZED });
  const params = bodyParams(req);
  if (params.status !== undefined && !STATUSES.includes(String(params.status))) {
    return validationFailed('status', 'The selected status is invalid.');
  }
  if (params.title !== undefined && (typeof params.title !== 'string' || params.title.trim() === '')) {
    return validationFailed('title', 'The title field is required.');
  }
  if (typeof params.title === 'string') post.title = params.title;
  if (typeof params.content === 'string') post.content = params.content;
  if (typeof params.status === 'string' && params.status !== post.status) {
    state.recordStatusChange({ postId: post.id, via: 'v5-put', field: 'status', from: post.status, to: params.status });
    post.status = params.status;
  }
  post.updated = state.nowSeconds();
  return json(200, { result: serializePost(post, state, auth.viewer) });
}

function bulk(req: FakeRequest, state: FakeState, auth: Auth): FakeResponse {
  if (!auth.authenticated) return errors(401, 'Unauthorized.');
  if (!canChangeStatus(auth.viewer)) return json(403, { error: 403, message: UNAUTHORIZED });
  const params = bodyParams(req);
  const operation = params.operation;
  const items = Array.isArray(params.items) ? (params.items as Array<Record<string, unknown>>) : undefined;
  if ((operation !== 'patch' && operation !== 'delete') || !items || items.length === 0) {
    return validationFailed('operation', 'The operation field is required.');
  }
  const ids = items.map((item) => Number(item.id));
  if (new Set(ids).size !== ids.length) return validationFailed('items.id', 'The items.id field has a duplicate value.');
  const missing = ids.find((itemId) => !state.post(itemId));
  if (missing !== undefined) return validationFailed('items.id', `The selected items.id is invalid.`);
  for (const item of items) {
    const post = state.post(Number(item.id))!;
    if (operation === 'delete') {
      state.deletePost(post.id);
    } else if (item.status !== undefined) {
      const from = post.status;
      post.status = String(item.status);
      state.recordStatusChange({ postId: post.id, via: 'v5-bulk', field: 'status', from, to: post.status });
    }
  }
  return json(200, { status: 'completed' });
}

export function handleV5(req: FakeRequest, state: FakeState, settings: V5Settings): FakeResponse {
  const auth = authenticate(req, state);
  if ('status' in auth) return auth;
  if (lacksPostsScope(auth) && req.pathname.startsWith('/api/v5/posts')) return errors(403, 'Invalid scope(s) provided.');
  const path = req.pathname.replace(/\/+$/, '');
  if (path === '/api/v5/posts') {
    if (req.method === 'GET') return listPosts(req, state, auth);
    return errors(405, 'Method Not Allowed');
  }
  if (path === '/api/v5/posts/bulk' && req.method === 'POST') return bulk(req, state, auth);
  if (path === '/api/v5/categories' && req.method === 'GET') {
    return json(200, { results: [...state.categories.values()].map(categoryResource) });
  }
  const single = /^\/api\/v5\/posts\/([^/]+)$/.exec(path);
  if (single) {
    const raw = single[1]!;
    const id = /^\d+$/.test(raw) ? Number(raw) : 0;
    if (req.method === 'GET') {
      if (id <= 0) return errors(400, 'Bad request: Id must be a positive number');
      const post = state.post(id);
      if (!post || !canSeePost(auth.viewer, post)) return errors(404, 'Post not found');
      const only = req.query.get('only');
      return json(200, { result: serializePost(post, state, auth.viewer, only ? new Set(only.split(',')) : undefined) });
    }
    if (req.method === 'PATCH') return patchPost(req, state, auth, id, settings);
    if (req.method === 'PUT') return putPost(req, state, auth, id);
    return errors(405, 'Method Not Allowed');
  }
  return errors(404, 'Not Found');
}
