/**
 * Errors of a form that is shown again with what was typed: the error next to the field it is
 * about, and fix hints worded for a person at the form (who retries by pressing the button again).
 */
import type { SluiceError } from '../errors.js';
import { html, type Html } from './html.js';
import type { Flash } from './layout.js';

/** Codes of a peer that could not be reached (connection refused, DNS, timeout). */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set(['PEER_UNAVAILABLE', 'PEER_TIMEOUT', 'USHAHIDI_UNAVAILABLE']);

/**
 * The fix to show someone waiting at a form or button. The transports word their fixes for
 * scheduled runs ("the request is retried"), which is not true of a lookup the user started.
 */
export function interactiveFix(error: Pick<SluiceError, 'code' | 'fix'>): string | undefined {
  if (UNREACHABLE_CODES.has(error.code)) return 'Check the URL and that the peer is running, then try again';
  const listed = consolePageOf(error.code);
  // Registries word their "not found" fixes for the CLI (sluice repo list); the console has a page for it.
  if (listed && (error.fix === undefined || /\bsluice \w/.test(error.fix))) return `See what there is on the ${listed.label} page`;
  return error.fix;
}

/** The console page that lists what a "not found" error was looking for. */
export function consolePageOf(code: string): { href: string; label: string } | undefined {
  return NOT_FOUND_PAGES[code];
}

const NOT_FOUND_PAGES: Readonly<Record<string, { href: string; label: string }>> = {
  REPOSITORY_NOT_FOUND: { href: '/console/repositories', label: 'Repositories' },
  TASK_NOT_FOUND: { href: '/console/repositories', label: 'Repositories' },
  RUN_NOT_FOUND: { href: '/console/runs', label: 'Runs' },
  CONFLICT_NOT_FOUND: { href: '/console/conflicts', label: 'Conflicts' },
};

/** A failed form's error as a flash, with the interactive fix and, when known, the field it is about. */
export function formError(error: SluiceError, field?: string, fix = interactiveFix(error)): Flash {
  return { kind: 'error', message: `${error.message} (${error.code})`, ...(fix ? { fix } : {}), ...(field ? { field } : {}) };
}

/** The top-of-page pointer shown while the error itself sits next to its field. */
export const FIX_BELOW: Flash = { kind: 'error', message: 'Nothing was saved: one of the values below needs fixing.' };

export function fieldError(error: Flash | undefined, name: string): Html {
  if (!error || error.field !== name) return html``;
  return html`<span class="field-error" role="alert" id="${name}-error">${error.message}${error.fix ? html`<span class="fix">${error.fix}</span>` : ''}</span>`;
}

export function invalid(error: Flash | undefined, name: string): Html {
  return error?.field === name ? html` aria-invalid="true" aria-describedby="${name}-error"` : html``;
}
