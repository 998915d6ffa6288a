// Sluice console: the mapping editor. Edits one mapping document (mappings/<instance>.json) in the
// page and talks to /api/mappings/<instance>: values seen on both sides, a before/after preview of
// the draft on a captured document, and saving (the server validates, generates and compiles).
'use strict';

(function () {
  const { api, el, flash, errorText } = window.Sluice;
  const { pretty, canonicalXml, showHighlighted, showDiff } = window.SluiceXml;
  const data = JSON.parse(document.getElementById('mapping-data').textContent);
  const root = document.getElementById('mapping-editor');
  const base = `/api/mappings/${encodeURIComponent(data.instance)}`;
  const TABLE = /^[a-z][a-z0-9]*_[a-z0-9_]+$/;
  const FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;
  const POLICIES = [
    ['pass', 'keep the value as it came'],
    ['default', 'replace it by a default'],
    ['drop', 'leave the field out'],
    ['reject', 'leave the whole record out'],
  ];

  const doc = JSON.parse(JSON.stringify(data.document));
  if (!Array.isArray(doc.resources)) doc.resources = [];
  const state = { resource: null, field: null, direction: 'inbound', dirty: false, values: new Map(), focusValue: null, preview: null };

  // ---- model helpers -------------------------------------------------------------------------
  const resource = () => (state.resource === null ? null : doc.resources[state.resource] || null);
  const field = () => {
    const r = resource();
    return r && state.field !== null && r.fields ? r.fields[state.field] || null : null;
  };
  const remoteName = (entry) => entry.remote || entry.local;

  function markDirty() {
    state.dirty = true;
    const status = document.getElementById('save-status');
    if (status) status.textContent = 'Unsaved changes';
  }

  function directionSpec(entry, direction, create) {
    if (!entry[direction] && create) entry[direction] = {};
    return entry[direction] || null;
  }

  function setValue(entry, direction, from, to) {
    const spec = directionSpec(entry, direction, true);
    spec.values = spec.values || {};
    if (to === '') delete spec.values[from];
    else spec.values[from] = to;
    if (Object.keys(spec.values).length === 0) delete spec.values;
    if (Object.keys(spec).length === 0) delete entry[direction];
    markDirty();
  }

  function setPolicy(entry, direction, policy, fallback) {
    const spec = directionSpec(entry, direction, true);
    if (!policy) delete spec.unmapped;
    else spec.unmapped = policy === 'default' ? { policy, default: fallback || '' } : { policy };
    if (Object.keys(spec).length === 0) delete entry[direction];
    markDirty();
  }

  function setRemote(entry, value) {
    const trimmed = value.trim();
    if (trimmed === '' || trimmed === entry.local) delete entry.remote;
    else entry.remote = trimmed;
    markDirty();
  }

  // ---- values from the server ----------------------------------------------------------------
  async function loadValues() {
    const r = resource();
    const f = field();
    if (!r || !f) return null;
    const key = JSON.stringify([r.local, f.local, remoteName(r), remoteName(f)]);
    if (!state.values.has(key)) {
      const query = new URLSearchParams({ resource: r.local, field: f.local, remoteResource: remoteName(r), remoteField: remoteName(f) });
      state.values.set(key, api('GET', `${base}/values?${query}`).then((answer) => answer.data));
    }
    return state.values.get(key);
  }

  // ---- rendering -----------------------------------------------------------------------------
  function render() {
    root.textContent = '';
    root.append(leftPane(), rightPane());
  }

  function pickerButton(label, pressed, onclick, extra) {
    return el('li', {}, el('button', { type: 'button', 'aria-pressed': String(pressed), onclick, ...(extra || {}) }, label));
  }

  function leftPane() {
    const pane = el('div', { class: 'pane', id: 'structure' });
    pane.append(el('h2', {}, 'Resources'));
    const list = el('ul', { class: 'picker', id: 'resource-list' });
    doc.resources.forEach((entry, index) => {
      const label = entry.remote ? `${entry.local} ⇄ ${entry.remote}` : entry.local;
      list.append(pickerButton(label, index === state.resource, () => { state.resource = index; state.field = null; render(); }, { 'data-resource': entry.local }));
    });
    if (!doc.resources.length) list.append(el('li', { class: 'empty' }, 'No resources mapped yet.'));
    pane.append(list);

    const newResource = el('input', { id: 'new-resource', list: 'local-resources', placeholder: 'org_office', size: 16, 'aria-label': 'Resource to add' });
    const resourceOptions = el('datalist', { id: 'local-resources' }, data.localResources.map((name) => el('option', { value: name })));
    pane.append(el('div', { class: 'buttons' }, newResource, resourceOptions, el('button', { type: 'button', id: 'add-resource', onclick: () => {
      const name = newResource.value.trim();
      if (!TABLE.test(name)) return say('error', `"${name}" is not a table name (prefix_name)`);
      if (doc.resources.some((entry) => entry.local === name)) return say('error', `${name} is mapped already`);
      doc.resources.push({ local: name, fields: [] });
      state.resource = doc.resources.length - 1;
      state.field = null;
      markDirty();
      render();
    } }, 'Add resource')));

    const r = resource();
    if (r) {
      pane.append(el('h2', {}, `Fields of ${r.local}`));
      pane.append(el('label', {}, 'Table name at the peer',
        el('input', { id: 'resource-remote', value: r.remote || '', placeholder: r.local, oninput: (event) => { setRemote(r, event.target.value); }, onchange: () => render() })));
      const fields = el('ul', { class: 'picker', id: 'field-list' });
      (r.fields || []).forEach((entry, index) => {
        const label = entry.remote ? `${entry.local} ⇄ ${entry.remote}` : entry.local;
        fields.append(pickerButton(label, index === state.field, () => { state.field = index; render(); }, { 'data-field': entry.local }));
      });
      if (!(r.fields || []).length) fields.append(el('li', { class: 'empty' }, 'No fields yet.'));
      pane.append(fields);
      const newField = el('input', { id: 'new-field', placeholder: 'field name', size: 14, 'aria-label': 'Field to add' });
      pane.append(el('div', { class: 'buttons' }, newField, el('button', { type: 'button', id: 'add-field', onclick: () => {
        const name = newField.value.trim();
        if (!FIELD.test(name)) return say('error', `"${name}" is not a field name`);
        r.fields = r.fields || [];
        if (r.fields.some((entry) => entry.local === name)) return say('error', `${name} is mapped already`);
        r.fields.push({ local: name });
        state.field = r.fields.length - 1;
        markDirty();
        render();
      } }, 'Add field')));
      pane.append(el('button', { type: 'button', class: 'danger', onclick: () => {
        if (!window.confirm(`Remove ${r.local} and its fields from the mapping?`)) return;
        doc.resources.splice(state.resource, 1);
        state.resource = null;
        state.field = null;
        markDirty();
        render();
      } }, 'Remove resource'));
    }

    pane.append(el('h2', {}, 'Unmapped values (default)'));
    pane.append(policyControls(doc.unmapped, (policy, fallback) => {
      if (!policy) delete doc.unmapped;
      else doc.unmapped = policy === 'default' ? { policy, default: fallback || '' } : { policy };
      markDirty();
    }, 'document-policy', false));
    return pane;
  }

  function policyControls(current, onchange, id, allowInherit) {
    const select = el('select', { id, class: 'policy', 'aria-label': 'Policy for unmapped values' });
    if (allowInherit) select.append(el('option', { value: '' }, 'as the mapping says'));
    for (const [value, label] of POLICIES) select.append(el('option', { value, selected: current && current.policy === value }, `${value}: ${label}`));
    const fallback = el('input', { id: `${id}-default`, placeholder: 'default value', value: (current && current.default) || '', hidden: !(current && current.policy === 'default') });
    select.addEventListener('change', () => {
      fallback.hidden = select.value !== 'default';
      onchange(select.value, fallback.value);
    });
    fallback.addEventListener('input', () => onchange(select.value, fallback.value));
    return el('div', { class: 'buttons' }, select, fallback);
  }

  function rightPane() {
    const pane = el('div', { class: 'pane', id: 'field-pane' });
    pane.append(el('div', { id: 'editor-messages' }));
    const r = resource();
    const f = field();
    if (!r || !f) {
      pane.append(el('p', { class: 'muted' }, r ? 'Choose or add a field.' : 'Choose or add a resource, then a field.'));
    } else {
      pane.append(fieldEditor(r, f));
    }
    pane.append(previewPanel(), saveBar());
    return pane;
  }

  function fieldEditor(r, f) {
    const box = el('div', { id: 'field-editor' });
    box.append(el('h2', {}, `${r.local}.${f.local}`));
    box.append(el('label', {}, 'Field name at the peer',
      el('input', { id: 'field-remote', value: f.remote || '', placeholder: f.local, oninput: (event) => setRemote(f, event.target.value), onchange: () => render() })));
    const tabs = el('nav', { class: 'tabs', 'aria-label': 'Direction' });
    for (const [direction, label] of [['inbound', `Inbound: ${data.repositories.map((x) => x.name).join(', ') || 'peer'} → here`], ['outbound', 'Outbound: here → peer']]) {
      tabs.append(el('button', { type: 'button', class: 'tab', 'aria-pressed': String(state.direction === direction), 'data-direction': direction, onclick: () => { state.direction = direction; render(); } }, label));
    }
    box.append(tabs);
    const table = el('div', { id: 'value-table' }, el('p', { class: 'muted' }, 'Loading the values seen on both sides…'));
    box.append(table);
    fillValueTable(table, r, f);
    box.append(el('h3', {}, 'Values no entry above maps'));
    box.append(policyControls(f[state.direction] && f[state.direction].unmapped, (policy, fallback) => setPolicy(f, state.direction, policy, fallback), 'field-policy', true));
    box.append(el('div', { class: 'buttons' },
      el('button', { type: 'button', id: 'reverse', onclick: () => {
        const from = state.direction;
        const to = from === 'inbound' ? 'outbound' : 'inbound';
        const values = (f[from] && f[from].values) || {};
        for (const [key, value] of Object.entries(values)) setValue(f, to, value, key);
        say('ok', `Filled ${to} with the reverse of the ${from} values.`);
      } }, state.direction === 'inbound' ? 'Fill outbound with the reverse' : 'Fill inbound with the reverse'),
      el('button', { type: 'button', class: 'danger', onclick: () => {
        r.fields.splice(state.field, 1);
        state.field = null;
        markDirty();
        render();
      } }, 'Remove field')));
    return box;
  }

  async function fillValueTable(container, r, f) {
    let values;
    try {
      values = await loadValues();
    } catch (error) {
      container.textContent = '';
      container.append(flash('error', errorText(error)));
      return;
    }
    if (field() !== f) return;
    const inbound = state.direction === 'inbound';
    const spec = f[state.direction] || {};
    const mapped = spec.values || {};
    const remote = new Map();
    const add = (list, source) => list.forEach((entry) => {
      const known = remote.get(entry.value) || { value: entry.value, text: entry.text, count: 0, sources: [] };
      // options.xml is a lookup list: it says a value exists, not how often it occurs.
      if (source !== 'options.xml') known.count += entry.count;
      known.sources.push(source);
      remote.set(entry.value, known);
    });
    add(values.remote.captured, 'captured');
    add(values.remote.options, 'options.xml');
    add(values.remote.categories, 'Ushahidi');
    const local = new Map(values.local.map((entry) => [entry.value, { ...entry, sources: ['here'] }]));
    const sources = inbound ? remote : local;
    const targets = inbound ? local : remote;
    const rows = new Map(sources);
    for (const key of Object.keys(mapped)) if (!rows.has(key)) rows.set(key, { value: key, count: 0, sources: ['mapping'] });

    const listId = `targets-${state.direction}`;
    const datalist = el('datalist', { id: listId }, [...targets.values()].map((entry) => el('option', { value: entry.value }, entry.text || entry.value)));
    const body = el('tbody');
    for (const entry of rows.values()) {
      const target = mapped[entry.value];
      const row = el('tr', { class: target === undefined ? 'unmapped' : 'mapped', 'data-value': entry.value });
      if (state.focusValue === entry.value) row.classList.add('focus');
      row.append(
        el('td', {}, el('span', { class: 'mono' }, entry.value), entry.text ? el('span', { class: 'muted small' }, ` ${entry.text}`) : null,
          el('div', { class: 'source' }, `${entry.count ? `${entry.count}× · ` : ''}${entry.sources.join(', ')}`)),
        el('td', {}, el('input', { value: target || '', list: listId, 'aria-label': `Map ${entry.value} to`, 'data-map': entry.value, oninput: (event) => {
          setValue(f, state.direction, entry.value, event.target.value.trim());
          row.className = event.target.value.trim() ? 'mapped' : 'unmapped';
        } })),
      );
      body.append(row);
    }
    const newFrom = el('input', { id: 'new-value-from', placeholder: inbound ? 'value at the peer' : 'value here', 'aria-label': 'New value to map' });
    const newTo = el('input', { id: 'new-value-to', list: listId, placeholder: inbound ? 'value here' : 'value at the peer', 'aria-label': 'Maps to' });
    body.append(el('tr', {}, el('td', {}, newFrom), el('td', {}, newTo, ' ', el('button', { type: 'button', id: 'add-value', onclick: () => {
      const from = newFrom.value.trim();
      if (!from || !newTo.value.trim()) return;
      setValue(f, state.direction, from, newTo.value.trim());
      render();
    } }, 'Add'))));
    const unmappedCount = [...rows.values()].filter((entry) => mapped[entry.value] === undefined).length;
    container.textContent = '';
    container.append(
      el('p', { class: 'muted small' }, `${values.remote.payloads} captured document${values.remote.payloads === 1 ? '' : 's'} read; ${remote.size} value${remote.size === 1 ? '' : 's'} at the peer, ${local.size} here; ${unmappedCount} without a mapping.`),
      values.remote.errors.length ? flash('error', values.remote.errors.join('; ')) : '',
      datalist,
      el('div', { class: 'scroll' }, el('table', { class: 'values' },
        el('thead', {}, el('tr', {}, el('th', {}, inbound ? 'Value at the peer' : 'Value here'), el('th', {}, inbound ? '→ value here' : '→ value at the peer'))), body)),
    );
    if (state.focusValue) {
      const input = container.querySelector(`input[data-map="${CSS.escape(state.focusValue)}"]`) || newFrom;
      if (input === newFrom) newFrom.value = state.focusValue;
      input.focus();
      state.focusValue = null;
    }
  }

  // ---- preview -------------------------------------------------------------------------------
  function previewPanel() {
    const panel = el('section', { id: 'mapping-preview' });
    panel.append(el('h2', {}, 'Try it on a recent document'));
    const select = el('select', { id: 'preview-payload', 'aria-label': 'Captured document' }, el('option', { value: '' }, 'Pick a captured document…'));
    for (const payload of data.payloads) {
      select.append(el('option', { value: `${payload.run}|${payload.index}`, 'data-direction': payload.direction },
        `${payload.at.replace('T', ' ')} · ${payload.direction} · ${payload.resource || payload.mode}${payload.truncated ? ' (cut)' : ''}`));
    }
    const input = el('textarea', { id: 'preview-sample', rows: 5, spellcheck: 'false', placeholder: 'or paste an S3XML document' });
    const note = el('p', { class: 'muted small', hidden: true });
    if (state.preview) input.value = state.preview.input;
    select.addEventListener('change', async () => {
      if (!select.value) return;
      const [run, index] = select.value.split('|');
      try {
        const { data: payload } = await api('GET', `/api/captures/${encodeURIComponent(run)}/${index}`);
        input.value = payload.body;
        state.direction = payload.direction;
        note.hidden = payload.wholeRecords === undefined;
        note.textContent = payload.wholeRecords === undefined ? '' : `Cut at the capture limit: the first ${payload.wholeRecords} whole records.`;
      } catch (error) {
        say('error', errorText(error));
      }
    });
    const result = el('div', { id: 'preview-outcome' });
    const button = el('button', { type: 'button', id: 'run-mapping-preview', onclick: async () => {
      button.disabled = true;
      try {
        const answer = await api('POST', `${base}/preview`, { document: doc, input: input.value, direction: state.direction });
        state.preview = { input: input.value };
        showPreview(result, answer.data);
      } catch (error) {
        result.textContent = '';
        result.append(flash('error', errorText(error)), problemList(error.body && error.body.problems));
      } finally {
        button.disabled = false;
      }
    } }, 'Preview before/after');
    panel.append(el('div', { class: 'buttons' }, select, button), note, input, result);
    return panel;
  }

  function showPreview(container, answer) {
    container.textContent = '';
    if (answer.errors && answer.errors.length) {
      container.append(flash('error', answer.errors.map((e) => `${e.code}: ${e.message}${e.line ? ` (line ${e.line})` : ''}`).join('; ')));
      return;
    }
    const before = pretty(answer.before);
    const after = pretty(answer.after || '');
    const beforeBlock = el('pre', { class: 'payload', id: 'preview-before' });
    const afterBlock = el('pre', { class: 'payload', id: 'preview-after' });
    showHighlighted(beforeBlock, before);
    showHighlighted(afterBlock, after);
    const diff = el('pre', { class: 'diff', id: 'preview-diff' });
    // Both sides written the same way first: only what the mapping changed shows as changed.
    const changed = showDiff(diff, pretty(canonicalXml(answer.before)), pretty(canonicalXml(answer.after || '')));
    const counts = (answer.report && answer.report.counts) || [];
    // Values the policy passes or defaults are information; dropped or rejected ones lose data.
    const losing = counts.some((c) => c.action === 'dropped' || c.action === 'rejected');
    container.append(
      el('p', {}, `${changed} line${changed === 1 ? '' : 's'} changed in ${answer.durationMs} ms.`),
      counts.length
        ? el('div', { class: losing ? 'flash flash-error' : 'flash flash-neutral', id: 'preview-unmapped' }, el('p', {}, 'Values without a mapping in this document:'),
          el('ul', {}, counts.map((c) => el('li', {}, `${c.resource}.${c.field} = ${c.value}: ${c.action} (${c.count}×)`))))
        : el('p', { class: 'muted' }, 'Every mapped field\u2019s value had an entry.'),
      el('details', { open: true }, el('summary', {}, 'What changed'), diff),
      el('div', { class: 'beforeafter' }, el('div', {}, el('h3', {}, 'Before'), beforeBlock), el('div', {}, el('h3', {}, 'After'), afterBlock)),
    );
  }

  // ---- saving --------------------------------------------------------------------------------
  function problemList(problems) {
    if (!problems || !problems.length) return '';
    return el('ul', { class: 'problems' }, problems.map((p) => el('li', { class: 'problem' }, `${p.path}: ${p.message}`)));
  }

  function say(kind, message, extra) {
    const box = document.getElementById('editor-messages');
    if (!box) return;
    box.textContent = '';
    box.append(flash(kind, message), extra || '');
  }

  function saveBar() {
    const status = el('span', { id: 'save-status', class: 'muted' }, state.dirty ? 'Unsaved changes' : 'No unsaved changes');
    const button = el('button', { type: 'button', class: 'primary big', id: 'save-mapping', onclick: async () => {
      button.disabled = true;
      try {
        const answer = await api('PUT', base, doc);
        state.dirty = false;
        status.textContent = `Saved as version ${answer.data.version}`;
        say('ok', `Saved version ${answer.data.version}. mappings/${data.instance}.xsl was ${answer.data.xslChanged ? 'regenerated and compiled' : 'already up to date'}; it applies from the next run.`,
          answer.data.warnings && answer.data.warnings.length ? el('ul', {}, answer.data.warnings.map((w) => el('li', {}, w))) : '');
      } catch (error) {
        say('error', errorText(error), problemList(error.body && error.body.problems));
      } finally {
        button.disabled = false;
      }
    } }, 'Save mapping');
    const json = el('textarea', { id: 'mapping-json', rows: 12, spellcheck: 'false' });
    const details = el('details', { id: 'json-view' }, el('summary', {}, 'The mapping as JSON'), json,
      el('button', { type: 'button', onclick: () => {
        try {
          const parsed = JSON.parse(json.value);
          Object.keys(doc).forEach((key) => delete doc[key]);
          Object.assign(doc, parsed);
          if (!Array.isArray(doc.resources)) doc.resources = [];
          state.resource = null;
          state.field = null;
          markDirty();
          render();
        } catch (error) {
          say('error', `That is not JSON: ${error.message}`);
        }
      } }, 'Use this JSON'));
    details.addEventListener('toggle', () => { if (details.open) json.value = JSON.stringify(doc, null, 2); });
    return el('div', { class: 'save-bar' }, button, status, el('a', { href: `/console/mappings/${encodeURIComponent(data.instance)}/versions` }, 'Versions'), details);
  }

  window.addEventListener('beforeunload', (event) => {
    if (state.dirty) event.preventDefault();
  });

  // ---- start: open what the page was asked for (a value from the unmapped report) ------------
  const focus = data.focus || {};
  if (focus.resource) {
    let index = doc.resources.findIndex((entry) => entry.local === focus.resource);
    if (index < 0) { doc.resources.push({ local: focus.resource, fields: [] }); index = doc.resources.length - 1; markDirty(); }
    state.resource = index;
    if (focus.field) {
      const r = doc.resources[index];
      r.fields = r.fields || [];
      let f = r.fields.findIndex((entry) => entry.local === focus.field);
      if (f < 0) { r.fields.push({ local: focus.field }); f = r.fields.length - 1; markDirty(); }
      state.field = f;
    }
    if (focus.direction === 'inbound' || focus.direction === 'outbound') state.direction = focus.direction;
    state.focusValue = focus.value || null;
  } else if (doc.resources.length) {
    state.resource = 0;
    if ((doc.resources[0].fields || []).length) state.field = 0;
  }
  render();
  if (data.problems && data.problems.length) say('error', 'The saved mapping has problems:', problemList(data.problems));
})();
