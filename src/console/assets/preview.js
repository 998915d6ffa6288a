// Sluice console: the transform preview page. Sends the form to POST /console/api/preview and
// shows what came back. Plain ES2020.
'use strict';

(function () {
  const { api, el, flash, errorText, csrf } = window.Sluice;
  const { pretty, showHighlighted, showDiff } = window.SluiceXml;
  const data = JSON.parse(document.getElementById('preview-data').textContent);
  const form = document.getElementById('preview-form');
  const $ = (id) => document.getElementById(id);

  const formatSelect = $('preview-format');
  const mappingSelect = $('preview-mapping');
  const captureSelect = $('input-capture');
  const resourceSelect = $('input-resource');
  const tableSelect = $('preview-resource');
  // Formats whose stylesheets are per table (stylesheets/csv/<prefix>/<name>.xsl).
  const PER_TABLE = new Set(['csv', 'xlsx']);
  const input = $('preview-input');
  const paramsBox = $('preview-params');
  let uploadedStylesheet = null;
  let expected = null;
  let previousOutput = null;
  let lastOutput = null;
  const mappingTexts = new Map();

  // Stable for the page's life, so that two runs differ only by what the user changed.
  const now = new Date().toISOString().slice(0, 19);
  const msguid = `urn:uuid:${crypto.randomUUID ? crypto.randomUUID() : String(Date.now())}`;

  function direction() {
    return form.elements.direction.value;
  }

  function fillFormats() {
    const first = data.formats.find((format) => (direction() === 'import' ? format.import : format.export));
    const chosen = formatSelect.options.length ? formatSelect.value : first ? first.name : '';
    formatSelect.textContent = '';
    formatSelect.append(el('option', { value: '', selected: chosen === '' }, 'none — the instance mapping alone, on S3XML'));
    for (const format of data.formats) {
      const usable = direction() === 'import' ? format.import : format.export;
      formatSelect.append(el('option', { value: format.name, disabled: !usable, selected: format.name === chosen }, `${format.name} — ${format.label}${usable ? '' : ` (no ${direction()})`}`));
    }
    if (formatSelect.selectedOptions[0] && formatSelect.selectedOptions[0].disabled) {
      const first = [...formatSelect.options].find((option) => !option.disabled);
      if (first) formatSelect.value = first.value;
    }
    showTableChoice();
  }

  function showTableChoice() {
    $('resource-choice').hidden = !PER_TABLE.has(formatSelect.value);
  }

  tableSelect.append(el('option', { value: '' }, 'the input\'s (export)'));
  for (const table of data.csvResources) tableSelect.append(el('option', { value: table }, table));
  formatSelect.addEventListener('change', showTableChoice);

  for (const instance of data.mappings) mappingSelect.append(el('option', { value: instance }, instance));
  for (const payload of data.payloads) {
    const label = `${payload.at.replace('T', ' ')} · ${payload.direction} · ${payload.resource || payload.mode} · ${Math.round(payload.bytes / 102.4) / 10} KiB${payload.truncated ? ' (cut)' : ''}`;
    captureSelect.append(el('option', { value: `${payload.run}|${payload.index}` }, label));
  }
  for (const resource of data.resources) resourceSelect.append(el('option', { value: resource }, resource));
  fillFormats();
  paramsBox.value = [`domain=${data.params.domain}`, `base_url=${data.params.base_url}`, `utcnow=${now}`, `msguid=${msguid}`].join('\n');

  form.addEventListener('change', (event) => {
    if (event.target.name === 'direction') fillFormats();
  });

  function readFile(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result));
      reader.onerror = () => reject(reader.error);
      reader.readAsText(file);
    });
  }

  $('stylesheet-file').addEventListener('change', async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    uploadedStylesheet = await readFile(file);
    $('stylesheet-name').textContent = `${file.name}, ${uploadedStylesheet.length} characters`;
    form.elements.source.value = 'upload';
  });
  $('input-file').addEventListener('change', async (event) => {
    const file = event.target.files[0];
    if (file) input.value = await readFile(file);
  });
  $('expected-file').addEventListener('change', async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    expected = await readFile(file);
    $('expected-name').textContent = `diff against ${file.name}`;
  });

  async function pickCapture(value, preferredFormat) {
    if (!value) return;
    const [run, index] = value.split('|');
    try {
      const { data: payload } = await api('GET', `/api/captures/${encodeURIComponent(run)}/${index}`);
      input.value = payload.body;
      noteCut(payload);
      form.elements.direction.value = payload.direction === 'inbound' ? 'import' : 'export';
      fillFormats();
      const usable = (name) => data.formats.some((format) => format.name === name && format[direction()]);
      const wanted = preferredFormat || (payload.direction === 'inbound' && looksLikeUshahidi(payload) ? 'ushahidi' : '');
      if (wanted && usable(wanted)) {
        formatSelect.value = wanted;
        if (wanted === 'ushahidi') setParam('deployment', deploymentOf(payload.url));
        showTableChoice();
      }
    } catch (error) {
      showProblem(errorText(error));
    }
  }
  /** The deployment as record uuids name it: host and path up to the API, no scheme (see import-document.ts). */
  function deploymentOf(url) {
    try {
      const parsed = new URL(url);
      const root = parsed.pathname.replace(/\/(index\.php\/)?api(\/.*)?$/, '').replace(/\/+$/, '');
      return `${parsed.host}${root}`.toLowerCase();
    } catch {
      return '';
    }
  }

  function setParam(name, value) {
    if (!value) return;
    const lines = paramsBox.value.split('\n').filter((line) => line.trim() !== '' && !line.startsWith(`${name}=`));
    paramsBox.value = [...lines, `${name}=${value}`].join('\n');
  }

  /** A poll's capture: JSON from a v5 posts or classic incidents URL, or shaped like one. */
  function looksLikeUshahidi(payload) {
    const body = payload.body.trimStart();
    if (!body.startsWith('{') && !body.startsWith('[')) return false;
    return /\/api\/v\d\/posts|task=incidents/.test(payload.url || '') || /"post_content"|"incidents"\s*:/.test(body.slice(0, 4096));
  }
  captureSelect.addEventListener('change', () => pickCapture(captureSelect.value));

  function noteCut(payload) {
    const note = $('input-note');
    note.hidden = !payload.truncated;
    note.textContent = payload.wholeRecords !== undefined
      ? `This capture was cut at the capture limit; its first ${payload.wholeRecords} whole record${payload.wholeRecords === 1 ? '' : 's'} are shown.`
      : 'This capture was cut at the capture limit.';
  }

  $('load-records').addEventListener('click', async () => {
    const resource = resourceSelect.value;
    if (!resource) return;
    const at = resource.indexOf('_');
    try {
      const response = await fetch(`/${resource.slice(0, at)}/${resource.slice(at + 1)}.xml?limit=3`, { headers: { 'x-sluice-console': '1' }, credentials: 'same-origin' });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      input.value = await response.text();
      form.elements.direction.value = 'export';
      fillFormats();
    } catch (error) {
      showProblem(`Could not load ${resource}: ${error.message}`);
    }
  });

  function showProblem(message) {
    $('preview-result').hidden = false;
    const box = $('preview-errors');
    box.textContent = '';
    box.append(flash('error', message));
  }

  function params() {
    const out = {};
    for (const line of paramsBox.value.split('\n')) {
      const at = line.indexOf('=');
      if (at > 0) out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    }
    return out;
  }

  async function mappingText(instance) {
    if (!mappingTexts.has(instance)) {
      const response = await fetch(`/api/mappings/${encodeURIComponent(instance)}/xsl`, { headers: { 'x-sluice-console': '1' }, credentials: 'same-origin' });
      if (!response.ok) throw new Error(`the mapping ${instance} could not be read (HTTP ${response.status})`);
      mappingTexts.set(instance, await response.text());
    }
    return mappingTexts.get(instance);
  }

  /** A few lines of a document around `line`, that line marked. */
  function snippet(text, line) {
    const lines = text.split('\n');
    const from = Math.max(0, line - 3);
    const shown = lines.slice(from, line + 2).map((content, i) => `${String(from + i + 1).padStart(4)} | ${content}`).join('\n');
    const block = el('pre', { class: 'payload' });
    showHighlighted(block, shown, new Set([line - from]));
    return block;
  }

  function renderResult(status, result, request) {
    $('preview-result').hidden = false;
    const ok = result.errors.length === 0;
    const verdict = !ok ? ['bad', `failed (HTTP ${status})`] : result.warnings.length ? ['warn', 'transformed, with warnings'] : ['ok', 'transformed'];
    $('preview-status').textContent = '';
    $('preview-status').append(el('span', { class: `badge badge-${verdict[0]}`, id: 'preview-verdict' }, verdict[1]));
    $('preview-duration').textContent = `${result.durationMs} ms${result.steps.length ? ` (${result.steps.map((step) => `${step.step} ${step.durationMs} ms`).join(', ')})` : ''}`;

    const validation = $('preview-validation');
    validation.textContent = '';
    if (result.validation && result.validation.checked === false) {
      validation.append(el('div', { class: 'flash', id: 'xsd-verdict' }, el('p', {}, `${result.validation.schema}: ${result.validation.note}.`)));
    } else if (result.validation) {
      const v = result.validation;
      validation.append(
        el('div', { class: `flash flash-${v.valid ? 'ok' : 'error'}`, id: 'xsd-verdict' },
          el('p', {}, v.valid ? `XSD-valid: the output passes the official ${v.schema.toUpperCase()} schema.` : `Not valid against the ${v.schema.toUpperCase()} schema:`),
          v.errors.length ? el('ul', {}, v.errors.map((e) => el('li', {}, `${e.line ? `line ${e.line}: ` : ''}${e.message}`))) : null),
      );
    }

    const errors = $('preview-errors');
    errors.textContent = '';
    for (const error of result.errors) {
      const where = error.line ? `${error.module ? error.module : 'the input'}, line ${error.line}${error.column ? `, column ${error.column}` : ''}` : null;
      const box = el('div', { class: 'flash flash-error preview-error' },
        el('p', {}, el('strong', {}, error.code), ` in ${error.step}: ${error.message}`),
        where ? el('p', { class: 'error-where' }, `At ${where}${error.xsltCode ? ` (${error.xsltCode})` : ''}`) : null);
      if (error.line && !error.module) box.append(snippet(request.input, error.line));
      else if (error.line && error.module === 'your stylesheet' && request.stylesheet) box.append(snippet(request.stylesheet, error.line));
      errors.append(box);
    }

    const warnings = $('preview-warnings');
    warnings.textContent = '';
    if (result.warnings.length) warnings.append(el('div', { class: 'flash flash-error' }, el('p', {}, 'Warnings'), el('ul', {}, result.warnings.map((w) => el('li', {}, w)))));

    const messages = $('preview-messages');
    messages.textContent = '';
    if (result.messages.length) {
      messages.append(el('details', { open: result.messages.length <= 8 }, el('summary', {}, `xsl:message output (${result.messages.length})`), el('pre', { class: 'payload' }, result.messages.join('\n'))));
    }

    const download = $('preview-download');
    download.textContent = '';
    if (result.outputEncoding === 'base64' && result.output !== null) {
      // Bytes (XLSX) cannot be shown as text: offer them as a file.
      const href = `data:${result.mediaType};base64,${result.output}`;
      download.append(el('p', {}, el('a', { href, download: `preview.${request.format || 'bin'}`, class: 'button', id: 'preview-download-link' }, `Download the ${String(request.format || '').toUpperCase()} output`)));
      showHighlighted($('preview-output'), '(binary output: use the download link)');
      $('preview-raw').value = '';
      return;
    }
    const output = result.output === null ? '' : result.output;
    if (result.output !== null) {
      previousOutput = lastOutput;
      lastOutput = output;
    }
    showHighlighted($('preview-output'), result.output === null ? '(no output)' : pretty(output));
    $('preview-raw').value = output;
    const diff = $('preview-diff');
    const against = expected !== null ? expected : previousOutput;
    if (against === null) {
      diff.textContent = 'Run the preview again (or choose an expected output file) to see what changed.';
    } else {
      showDiff(diff, pretty(against), pretty(output));
    }
  }

  document.querySelectorAll('.tab').forEach((tab) =>
    tab.addEventListener('click', () => {
      document.querySelectorAll('.tab').forEach((other) => other.setAttribute('aria-pressed', String(other === tab)));
      $('preview-output').hidden = tab.dataset.view !== 'output';
      $('preview-diff').hidden = tab.dataset.view !== 'diff';
      $('preview-raw').hidden = tab.dataset.view !== 'raw';
    }),
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = $('run-preview');
    button.disabled = true;
    button.textContent = 'Running…';
    try {
      const request = { direction: direction(), input: input.value, params: params() };
      if (form.elements.source.value === 'upload') {
        if (!uploadedStylesheet) throw new Error('Choose a stylesheet file first');
        request.stylesheet = uploadedStylesheet;
      } else if (formatSelect.value) {
        request.format = formatSelect.value;
        if (PER_TABLE.has(request.format) && tableSelect.value) request.resource = tableSelect.value;
      } else if (!mappingSelect.value) {
        throw new Error('Choose a format, a stylesheet or an instance mapping');
      }
      if (mappingSelect.value) request.mapping = await mappingText(mappingSelect.value);
      const headers = { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf(), 'x-sluice-console': '1' };
      const response = await fetch('/console/api/preview', { method: 'POST', headers, body: JSON.stringify(request), credentials: 'same-origin' });
      const body = await response.json();
      if (!('output' in body)) throw new Error(body.message || `HTTP ${response.status}`);
      renderResult(Number(response.headers.get('x-preview-status') || response.status), body, request);
    } catch (error) {
      showProblem(errorText(error));
    } finally {
      button.disabled = false;
      button.textContent = 'Run preview';
    }
  });

  if (data.pick) {
    const value = `${data.pick.run}|${data.pick.index}`;
    captureSelect.value = value;
    pickCapture(value, data.pick.format);
  }
})();
