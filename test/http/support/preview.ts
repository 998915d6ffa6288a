import type { PreviewResponse } from '../../../src/http/preview-route.js';

/** POSTs a preview request to a server at `base`; the status and the parsed answer. */
export async function postPreview(base: string, body: unknown): Promise<{ status: number; body: PreviewResponse }> {
  const response = await fetch(`${base}/api/preview`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as PreviewResponse };
}
