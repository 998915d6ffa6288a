import { SluiceError } from '../errors.js';
import type { UshahidiPost } from './source.js';

/**
 * The exact JSON text `stylesheets/ushahidi/import.xsl` receives in its `json` parameter:
 *
 * ```json
 * { "deployment": "haiti.example.org",
 *   "api": "v5",
 *   "posts": [ { "id": 4412, "title": "…", "content": "…", "status": "draft",
 *                "triage": {"api":"v5","status":"draft"},
 *                "created": "2024-05-02T09:14:05", "updated": "2024-05-03T10:00:00", "occurred": "2024-05-02T09:13:00",
 *                "lat": 18.5125, "lon": -72.2853, "locationName": "Pétion-Ville",
 *                "categories": [{"id": 12, "tag": "Water shortage"}],
 *                "values": {"People affected": 300},
 *                "source": "sms", "language": "en", "media": [{"type":"1","url":"…"}] } ] }
 * ```
 * Every post is a UshahidiPost without `raw`; optional members are left out when unknown.
 * Times are Eden timestamps (UTC, no zone).
 */
export interface UshahidiImportDocument {
  deployment: string;
  api: 'v5' | 'v2';
  posts: Array<Omit<UshahidiPost, 'raw'>>;
}

/**
 * The deployment's identity in record uuids (`<deployment>/<post id>`): host, port when not the
 * default, and path, without scheme or trailing slash, so http→https moves keep the same uuids.
 */
export function deploymentDomain(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch (error) {
    throw new SluiceError('USHAHIDI_BAD_BASE_URL', `"${baseUrl}" is not an absolute URL`, {
      status: 400,
      cause: error,
      fix: 'Give the deployment URL with its scheme, e.g. https://haiti.api.ushahidi.io',
    });
  }
  return `${url.host}${url.pathname.replace(/\/+$/, '')}`.toLowerCase();
}

export function importDocument(deployment: string, api: 'v5' | 'v2', posts: readonly UshahidiPost[]): UshahidiImportDocument {
  return {
    deployment,
    api,
    posts: posts.map(({ raw: _raw, ...rest }) => rest),
  };
}

export function importDocumentJson(deployment: string, api: 'v5' | 'v2', posts: readonly UshahidiPost[]): string {
  return JSON.stringify(importDocument(deployment, api, posts));
}
