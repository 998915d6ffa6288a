import { iso8601, laravelJsonDate } from './http-util.js';
import type { FakeCategory, FakePost, FakeState } from './state.js';

/** Who is asking decides what a post looks like (status visibility, hidden times, author fields). */
export interface Viewer {
  role: 'admin' | 'user' | 'guest';
  userId: number | null;
}

export function canSeePost(viewer: Viewer, post: FakePost): boolean {
  if (viewer.role === 'admin') return true;
  if (post.status === 'published') return true;
  return viewer.role === 'user' && post.userId !== null && post.userId === viewer.userId;
}

const ALL_PRIVILEGES = ['read', 'create', 'update', 'delete', 'search', 'change_status', 'read_full', 'lock'];
const READ_PRIVILEGES = ['read', 'search'];

function categoryRow(category: FakeCategory): Record<string, unknown> {
  return {
    id: category.id,
    parent_id: category.parentId,
    tag: category.tag,
    slug: category.slug,
    type: 'category',
    color: category.color,
    icon: category.icon,
    description: category.description,
    role: null,
    priority: category.priority,
    base_language: 'en',
  };
}

export function categoryResource(category: FakeCategory): Record<string, unknown> {
  return { ...categoryRow(category), children: [], translations: [], enabled_languages: { default: 'en', available: [] } };
}

function valueRow(post: FakePost, fieldId: number, value: unknown): Record<string, unknown> {
  return {
    id: post.id * 100 + fieldId,
    post_id: post.id,
    value,
    form_attribute_id: fieldId,
    created: laravelJsonDate(post.created),
    translations: [],
  };
}

function postContent(post: FakePost, state: FakeState): unknown[] {
  if (post.formId === null) return [];
  const form = state.forms.get(post.formId);
  if (!form) return [];
  const fields = form.fields.map((field) => {
    let value: unknown = null;
    if (field.type === 'point') {
      value = post.location ? valueRow(post, field.id, { lat: post.location.lat, lon: post.location.lon }) : null;
    } else if (field.type === 'tags') {
      const rows = post.categoryIds.map((id) => state.categories.get(id)).filter((c): c is FakeCategory => c !== undefined);
      value = rows.length > 0 ? rows.map(categoryRow) : null;
    } else if (field.type !== 'title' && field.type !== 'description' && post.values[field.id] !== undefined) {
      value = valueRow(post, field.id, post.values[field.id]);
    }
    return {
      id: field.id,
      key: field.key,
      label: field.label,
      instructions: null,
      input: field.input,
      type: field.type,
      required: field.type === 'title' || field.type === 'description',
      default: null,
      priority: field.priority,
      options: field.options,
      cardinality: field.type === 'tags' ? 0 : 1,
      config: [],
      form_stage_id: form.stageId,
      response_private: false,
      description: null,
      translations: [],
      value,
    };
  });
  return [
    {
      id: form.stageId,
      form_id: form.id,
      label: 'Report',
      priority: 0,
      required: false,
      type: 'post',
      show_when_published: 1,
      task_is_internal_only: 0,
      description: null,
      translations: [],
      fields,
    },
  ];
}

function hiddenTime(epochSeconds: number): number {
  return epochSeconds - (epochSeconds % 86400);
}

/**
 * A v5 PostResource. `only` limits columns and relations; `id` and `status` are always there and
 * so is `allowed_privileges`; unknown names are ignored, as on the real server.
 */
export function serializePost(post: FakePost, state: FakeState, viewer: Viewer, only?: Set<string>): Record<string, unknown> {
  const want = (key: string): boolean => !only || only.has(key);
  const form = post.formId === null ? undefined : state.forms.get(post.formId);
  const truncate = form?.hideTime === true && viewer.role !== 'admin';
  const time = (epoch: number): string => iso8601(truncate ? hiddenTime(epoch) : epoch);
  const out: Record<string, unknown> = { id: post.id };
  const columns: Array<[string, () => unknown]> = [
    ['parent_id', () => null],
    ['form_id', () => post.formId],
    ['user_id', () => post.userId],
    ['type', () => 'report'],
    ['title', () => post.title],
    ['slug', () => post.slug],
    ['content', () => post.content],
    ['author_email', () => (viewer.role === 'admin' ? post.authorEmail : null)],
    ['author_realname', () => (viewer.role === 'admin' ? post.authorRealname : null)],
    ['status', () => post.status],
    ['published_to', () => []],
    ['locale', () => post.locale],
    ['post_date', () => time(post.postDate)],
    ['base_language', () => post.baseLanguage],
    ['source', () => post.source],
    ['metadata', () => null],
    ['color', () => (post.formId === 2 ? '#A51A1A' : '#2274B4')],
    ['created', () => time(post.created)],
    ['updated', () => (post.updated === null ? null : time(post.updated))],
    ['data_source_message_id', () => (post.source === 'sms' ? `SM${post.id.toString(16).padStart(6, '0')}` : null)],
    ['contact_id', () => null],
  ];
  for (const [key, value] of columns) {
    if (key === 'status' || want(key)) out[key] = value();
  }
  const relations: Array<[string, () => unknown]> = [
    [
      'categories',
      () =>
        post.categoryIds
          .map((id) => state.categories.get(id))
          .filter((c): c is FakeCategory => c !== undefined)
          .map((c) => ({ ...categoryRow(c), pivot: { post_id: post.id, tag_id: c.id } })),
    ],
    ['sets', () => []],
    ['completed_stages', () => []],
    ['post_content', () => postContent(post, state)],
    ['translations', () => (Object.keys(post.translations).length === 0 ? [] : post.translations)],
    ['enabled_languages', () => ({ default: post.baseLanguage, available: Object.keys(post.translations) })],
    ['locks', () => []],
    ['message', () => null],
    ['contact', () => null],
    ['post_media', () => post.media.filter((m) => m.type === 1).map((m) => ({ id: m.id, url: m.link }))],
  ];
  for (const [key, value] of relations) {
    if (want(key)) out[key] = value();
  }
  out.allowed_privileges = viewer.role === 'admin' ? ALL_PRIVILEGES : READ_PRIVILEGES;
  return out;
}
