/**
 * Small pieces the pages share: status badges, times, POST buttons, tables that scroll inside
 * themselves (so a page never scrolls sideways on a small screen), empty states.
 */
import { csrfField, type PageContext } from './layout.js';
import { html, type Html, type HtmlValue } from './html.js';

const BADGE_CLASS: Record<string, string> = {
  success: 'ok',
  resolved: 'ok',
  warning: 'warn',
  interrupted: 'warn',
  running: 'info',
  open: 'warn',
  error: 'bad',
  fatal: 'bad',
  never: 'muted',
  disabled: 'muted',
};

export function badge(status: string, label = status): Html {
  return html`<span class="badge badge-${BADGE_CLASS[status] ?? 'muted'}">${label}</span>`;
}

/** Eden timestamps are UTC without a zone; shown as such, with the age when a clock is given. */
export function time(timestamp: string | undefined, now?: Date): Html {
  if (!timestamp) return html`<span class="muted">—</span>`;
  const shown = `${timestamp.replace('T', ' ')} UTC`;
  if (!now) return html`<time datetime="${timestamp}Z">${shown}</time>`;
  return html`<time datetime="${timestamp}Z" title="${shown}">${ago(timestamp, now)}</time>`;
}

export function ago(timestamp: string, now: Date): string {
  const then = Date.parse(`${timestamp}Z`);
  if (Number.isNaN(then)) return timestamp;
  const seconds = Math.round((now.getTime() - then) / 1000);
  const future = seconds < 0;
  const span = Math.abs(seconds);
  let text: string;
  if (span < 45) text = `${span} s`;
  else if (span < 45 * 60) text = `${Math.round(span / 60)} min`;
  else if (span < 36 * 3600) text = `${Math.round(span / 3600)} h`;
  else text = `${Math.round(span / 86400)} d`;
  return future ? `in ${text}` : `${text} ago`;
}

export function duration(ms: number | undefined): string {
  if (ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

export function bytes(count: number | undefined): string {
  if (count === undefined) return '—';
  if (count < 1024) return `${count} B`;
  if (count < 1024 * 1024) return `${(count / 1024).toFixed(1)} KiB`;
  return `${(count / 1024 / 1024).toFixed(1)} MiB`;
}

export interface PostButtonOptions {
  className?: string;
  /** Asks before sending (console.js reads data-confirm). */
  confirm?: string;
  /** Extra hidden fields. */
  fields?: Record<string, string>;
  title?: string;
}

/** A one-button form: actions change state, so they are POSTs with the CSRF token, never links. */
export function postButton(ctx: PageContext, action: string, label: HtmlValue, options: PostButtonOptions = {}): Html {
  return html`<form method="post" action="${action}" class="inline"${options.confirm ? html` data-confirm="${options.confirm}"` : ''}>
${csrfField(ctx)}${Object.entries(options.fields ?? {}).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
<button type="submit" class="${options.className ?? ''}"${options.title ? html` title="${options.title}"` : ''}>${label}</button>
</form>`;
}

/** A table in a box that scrolls sideways on its own when it is wider than the screen. */
/** `rows` are `<tr>`s, or with `grouped` whole `<tbody>`s (several rows that belong together). */
export function table(headers: HtmlValue[], rows: HtmlValue[], options: { empty?: string; className?: string; grouped?: boolean } = {}): Html {
  if (rows.length === 0) return html`<p class="empty">${options.empty ?? 'Nothing here yet.'}</p>`;
  return html`<div class="scroll"><table class="${options.className ?? ''}">
<thead><tr>${headers.map((header) => html`<th scope="col">${header}</th>`)}</tr></thead>
${options.grouped ? rows : html`<tbody>${rows}</tbody>`}
</table></div>`;
}

export function definitionList(entries: [HtmlValue, HtmlValue][]): Html {
  return html`<dl class="facts">${entries.map(([term, value]) => html`<dt>${term}</dt><dd>${value}</dd>`)}</dl>`;
}

export function shorten(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `<select>` options with one selected. */
export function options(values: readonly (string | { value: string; label: string })[], selected: string | undefined): Html {
  return html`${values.map((entry) => {
    const { value, label } = typeof entry === 'string' ? { value: entry, label: entry } : entry;
    return html`<option value="${value}"${value === selected ? html` selected` : ''}>${label}</option>`;
  })}`;
}
