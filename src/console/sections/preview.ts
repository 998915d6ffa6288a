/**
 * The transform preview for analysts: a format's stylesheet or an uploaded one (run sandboxed),
 * import or export, with or without an instance mapping, over pasted, uploaded or captured input,
 * or records of this gateway. The page's script calls POST /console/api/preview (the preview
 * route, behind the console's sign-in) and shows the output pretty-printed and highlighted, the
 * xsl:message output, warnings, errors with line and column, the XSD verdict for CAP/HAVE/DE,
 * the duration, and a diff against the previous output or an expected file.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Router } from 'express';
import { CSV_RESOURCES, findFormat, listFormats } from '../../formats/registry.js';
import { recentPayloads } from '../captured-payloads.js';
import { page, queryText, render, type ConsoleEnv } from '../context.js';
import { html, jsonData } from '../html.js';
import type { MappingWorkspace } from '../mapping-workspace.js';

export interface PreviewFormat {
  name: string;
  label: string;
  import: boolean;
  export: boolean;
}

/** Labels of stylesheet folders that are not registry formats (they have no wire form of their own). */
const FOLDER_LABELS: Record<string, string> = {
  ushahidi: 'Ushahidi posts (v5 or classic v2 API JSON)',
};

/**
 * Formats the preview can run: the registry's formats (CSV and XLSX included, whose stylesheets
 * are per table), then folders of stylesheets/ with an import.xsl or an export.xsl (Ushahidi).
 * XLSX import is left out: the preview's input is text.
 */
export function previewFormats(stylesheetsDir: string): PreviewFormat[] {
  const formats: PreviewFormat[] = listFormats().map((format) => ({
    name: format.name,
    label: format.label,
    import: format.importStylesheet !== undefined && !format.binary,
    export: format.exportStylesheet !== undefined,
  }));
  let folders: string[];
  try {
    folders = readdirSync(stylesheetsDir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch {
    folders = [];
  }
  for (const name of folders) {
    if (findFormat(name)) continue;
    formats.push({
      name,
      label: FOLDER_LABELS[name] ?? `stylesheets/${name}`,
      import: existsSync(path.join(stylesheetsDir, name, 'import.xsl')),
      export: existsSync(path.join(stylesheetsDir, name, 'export.xsl')),
    });
  }
  return formats.filter((format) => format.import || format.export).sort((a, b) => a.name.localeCompare(b.name));
}

export function registerPreview(router: Router, env: ConsoleEnv, workspace: MappingWorkspace): void {
  router.get(
    '/console/preview',
    page(env, ['analyst', 'integrator'], async (req, res, ctx) => {
      const run = queryText(req, 'run');
      const capture = queryText(req, 'capture');
      // Set by the run page for Ushahidi runs, whose captures only that format reads.
      const format = queryText(req, 'format');
      const mappings = [];
      for (const instance of await workspace.instances()) if (await workspace.xsl(instance)) mappings.push(instance);
      const data = {
        formats: previewFormats(env.stylesheetsDir),
        mappings,
        payloads: await recentPayloads(env.store, { limit: 40 }),
        pick: run && capture && /^\d+$/.test(capture) ? { run, index: Number(capture), ...(format && /^[a-z0-9-]+$/.test(format) ? { format } : {}) } : null,
        params: { domain: env.domain, base_url: env.baseUrl },
        csvResources: CSV_RESOURCES,
        resources: (await env.store.resources()).filter((entry) => entry.count > 0).map((entry) => entry.resource),
      };
      render(req, res, ctx, {
        title: 'Transform preview',
        mainClass: 'wide',
        scripts: ['xml-tools.js', 'preview.js'],
        body: html`${jsonData('preview-data', data)}
<form id="preview-form" class="preview-form">
  <fieldset><legend>Stylesheet</legend>
    <label><input type="radio" name="source" value="format" checked> Format
      <select name="format" id="preview-format"></select></label>
    <label id="resource-choice" hidden>Table <select name="resource" id="preview-resource"></select></label>
    <label><input type="radio" name="source" value="upload"> My stylesheet (runs sandboxed)
      <input type="file" id="stylesheet-file" accept=".xsl,.xslt,.xml"></label>
    <span class="muted small" id="stylesheet-name"></span>
  </fieldset>
  <fieldset><legend>Direction</legend>
    <label><input type="radio" name="direction" value="import" checked> Import (into S3XML)</label>
    <label><input type="radio" name="direction" value="export"> Export (from S3XML)</label>
  </fieldset>
  <fieldset><legend>Instance mapping</legend>
    <select name="mapping" id="preview-mapping"><option value="">none</option></select>
  </fieldset>
  <fieldset class="input-choice"><legend>Input</legend>
    <div class="buttons">
      <label class="button">Upload a file <input type="file" id="input-file" class="visually-hidden"></label>
      <select id="input-capture"><option value="">Pick a captured payload…</option></select>
      <span class="records-pick"><select id="input-resource"><option value="">Records of this gateway…</option></select>
      <button type="button" id="load-records">Load</button></span>
    </div>
    <p id="input-note" class="muted small" hidden></p>
    <textarea id="preview-input" name="input" rows="12" spellcheck="false" placeholder="Paste the input document here"></textarea>
  </fieldset>
  <details><summary>Stylesheet parameters</summary>
    <textarea id="preview-params" rows="4" spellcheck="false" placeholder="name=value, one per line"></textarea>
  </details>
  <div class="buttons">
    <button type="submit" class="primary big" id="run-preview">Run preview</button>
    <label class="button">Expected output <input type="file" id="expected-file" class="visually-hidden"></label>
    <span id="expected-name" class="muted small"></span>
  </div>
</form>
<section id="preview-result" class="result" aria-live="polite" hidden>
  <div class="result-head"><h2>Result</h2><span id="preview-status"></span><span id="preview-duration" class="muted"></span></div>
  <div id="preview-validation"></div>
  <div id="preview-download"></div>
  <div id="preview-errors"></div>
  <div id="preview-warnings"></div>
  <div id="preview-messages"></div>
  <nav class="tabs" aria-label="Output views">
    <button type="button" class="tab" data-view="output" aria-pressed="true">Output</button>
    <button type="button" class="tab" data-view="diff" aria-pressed="false">Diff</button>
    <button type="button" class="tab" data-view="raw" aria-pressed="false">Raw</button>
  </nav>
  <pre id="preview-output" class="payload highlighted"></pre>
  <pre id="preview-diff" class="diff" hidden></pre>
  <textarea id="preview-raw" rows="14" readonly hidden></textarea>
</section>`,
      });
    }),
  );
}
