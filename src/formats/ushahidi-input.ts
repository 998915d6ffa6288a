/**
 * What `stylesheets/ushahidi/import.xsl` reads in its `json` parameter, made from whatever an
 * analyst has at hand: the normalised import document itself, or a raw API answer captured by a
 * poll (v5 `{results:[…]}` or a bare post list; classic v2 `{payload:{incidents:[…]}, error}`).
 * Raw answers go through the same normalisers the clients use, so the preview sees what the poll
 * would have handed the stylesheet.
 */
import { SluiceError } from '../errors.js';
import { importDocumentJson } from '../ushahidi/import-document.js';
import type { UshahidiPost } from '../ushahidi/source.js';
import { statusToken } from '../ushahidi/status-push.js';
import { normalizeV2Incident } from '../ushahidi/ushahidi-v2-client.js';
import { normalizeV5Post } from '../ushahidi/ushahidi-v5-client.js';

export interface UshahidiInputOptions {
  /** Used in record uuids when the input does not name its deployment. */
  deployment: string;
  /** The classic API's local time zone (its dates carry none). */
  timeZone: string;
}

export interface UshahidiInput {
  json: string;
  /** How the input was read, for the analyst: `import document`, `v5 API answer`, `v2 API answer`. */
  readAs: string;
  posts: number;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function notUshahidi(detail: string): SluiceError {
  return new SluiceError('USHAHIDI_INPUT_UNRECOGNISED', `the input is not Ushahidi posts JSON: ${detail}`, {
    status: 422,
    fix: 'Paste a captured Ushahidi answer (v5 /api/v5/posts or classic ?task=incidents) or an import document {deployment, api, posts}',
  });
}

/** The poll hands the mapping one status string per post (both v2 flags), so the preview does too. */
function withStatusTokens(posts: UshahidiPost[]): UshahidiPost[] {
  return posts.map((post) => ({ ...post, status: statusToken(post.triage) }));
}

export function ushahidiImportInput(text: string, options: UshahidiInputOptions): UshahidiInput {
  let body: unknown;
  try {
    body = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new SluiceError('JSON_INVALID', `the input is not JSON: ${(error as Error).message}`, {
      status: 422,
      cause: error,
      fix: 'Paste the posts JSON exactly as the Ushahidi API answered it',
    });
  }
  if (isObject(body) && Array.isArray(body.posts) && (body.api === 'v5' || body.api === 'v2')) {
    return { json: JSON.stringify(body), readAs: 'import document', posts: body.posts.length };
  }
  if (isObject(body) && isObject(body.payload) && Array.isArray(body.payload.incidents)) {
    const posts = body.payload.incidents.filter(isObject).map((entry) => normalizeV2Incident(entry, options.timeZone));
    return { json: importDocumentJson(options.deployment, 'v2', withStatusTokens(posts)), readAs: 'v2 API answer', posts: posts.length };
  }
  const v5List = isObject(body) && Array.isArray(body.results) ? body.results : Array.isArray(body) ? body : isObject(body) && 'post_content' in body ? [body] : undefined;
  if (v5List) {
    const posts = v5List.filter(isObject).map((post) => normalizeV5Post(post));
    return { json: importDocumentJson(options.deployment, 'v5', withStatusTokens(posts)), readAs: 'v5 API answer', posts: posts.length };
  }
  throw notUshahidi('expected {results:[…]} (v5), {payload:{incidents:[…]}} (v2) or {deployment, api, posts}');
}
