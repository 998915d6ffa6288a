// Sluice console: small helpers every page uses. Plain ES2020, no framework, no build step.
'use strict';

(function () {
  const main = () => document.querySelector('main');

  /** The session's CSRF token, which the page carries on <main data-csrf>. */
  function csrf() {
    const element = main();
    return element ? element.getAttribute('data-csrf') || '' : '';
  }

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || `HTTP ${status}`);
      this.status = status;
      this.body = body || {};
      this.code = this.body.code || `HTTP_${status}`;
    }
  }

  /** fetch() for the JSON API: sends the CSRF token, reads JSON, throws ApiError on failure. */
  async function api(method, url, body) {
    const headers = { accept: 'application/json', 'x-sluice-console': '1' };
    if (method !== 'GET') headers['x-csrf-token'] = csrf();
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
    const type = response.headers.get('content-type') || '';
    const data = type.includes('json') ? await response.json() : await response.text();
    if (!response.ok && !(data && typeof data === 'object' && 'output' in data)) throw new ApiError(response.status, typeof data === 'object' ? data : { message: String(data).slice(0, 300) });
    return { status: response.status, data };
  }

  /** Builds an element: el('p', {class: 'x'}, 'text', child…). Text is always text, never markup. */
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2), value);
      else if (value === true) node.setAttribute(name, '');
      else node.setAttribute(name, String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** A message box, as the server renders flashes. */
  function flash(kind, message, fix) {
    return el('div', { class: `flash flash-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, el('p', {}, message), fix ? el('p', { class: 'fix' }, fix) : null);
  }

  function errorText(error) {
    if (error && error.code === 'SESSION_EXPIRED') return 'Your session has ended: sign in again (your edits stay on this page until you leave it).';
    return error && error.message ? `${error.message}${error.code ? ` (${error.code})` : ''}` : String(error);
  }

  window.Sluice = { api, csrf, el, flash, errorText, ApiError };

  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    const question = form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    if (form.method.toLowerCase() !== 'post') return;
    // Disabled only after the browser has read the form, so the pressed button's value still goes.
    const buttons = form.querySelectorAll('button[type="submit"], button:not([type])');
    setTimeout(() => buttons.forEach((button) => { button.disabled = true; }), 0);
  });
})();
