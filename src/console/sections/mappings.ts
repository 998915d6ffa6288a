/**
 * Mappings: the list of instances, the editor (a page whose script edits the mapping document and
 * talks to /api/mappings), the kept versions with their differences and a way back, the
 * generated stylesheet, and the unmapped-values report with a link from each value to the editor.
 */
import type { Router } from 'express';
import { SluiceError } from '../../errors.js';
import { recentPayloads } from '../captured-payloads.js';
import { badge, options, postButton, table, time } from '../components.js';
import { action, field, page, queryText, render, requiredField, type ConsoleEnv } from '../context.js';
import { html, jsonData, query } from '../html.js';
import { instanceNameFor, linkMapping, repositoriesUsing } from '../instance-links.js';
import { csrfField } from '../layout.js';
import { changeCount, diffLines, renderDiff } from '../line-diff.js';
import { prettyMapping, type MappingWorkspace } from '../mapping-workspace.js';
import type { UnmappedReports } from '../unmapped-report.js';

const INTEGRATOR = ['integrator'] as const;

function instancePath(instance: string, rest = ''): string {
  return `/console/mappings/${encodeURIComponent(instance)}${rest}`;
}

function subnav(instance: string, current: string): ReturnType<typeof html> {
  const links = [
    ['', 'Editor'],
    ['/versions', 'Versions'],
    ['/unmapped', 'Unmapped values'],
    ['/xsl', 'Generated stylesheet'],
  ] as const;
  return html`<nav class="tabs" aria-label="Mapping">${links.map(
    ([rest, label]) => html`<a href="${instancePath(instance, rest)}"${rest === current ? html` aria-current="page"` : ''}>${label}</a>`,
  )}</nav>`;
}

export function registerMappings(router: Router, env: ConsoleEnv, workspace: MappingWorkspace, reports: UnmappedReports): void {
  router.get(
    '/console/mappings',
    page(env, [...INTEGRATOR], async (req, res, ctx) => {
      const summaries = await workspace.summaries();
      const repositories = await env.store.listRepositories();
      const rows = summaries.map((summary) => {
        const users = repositories.filter((repository) => repository.config['mapping'] === summary.instance);
        return html`<tr>
  <td><a href="${instancePath(summary.instance)}"><strong>${summary.instance}</strong></a></td>
  <td>${users.map((repository) => repository.name).join(', ') || html`<span class="muted">no repository</span>`}</td>
  <td>${summary.resources} resources · ${summary.fields} fields · ${summary.valueMaps} values</td>
  <td>${summary.versions ? html`v${summary.versions} ${time(summary.lastSaved)}` : html`<span class="muted">never saved here</span>`}</td>
  <td>${summary.compiled ? badge('success', 'generated') : badge('warning', 'no .xsl')}</td>
  <td><a href="${instancePath(summary.instance, '/unmapped')}">Unmapped values</a></td>
</tr>`;
      });
      const unlinked = repositories.filter((repository) => typeof repository.config['mapping'] !== 'string');
      render(req, res, ctx, {
        title: 'Mappings',
        body: html`<p>A mapping says how one instance (an Eden peer or an external source) names tables, fields and lookup values differently from this gateway.
Saving one generates <span class="mono">mappings/&lt;instance&gt;.xsl</span>, which runs with that repository from its next run.</p>
${table(['Instance', 'Used by', 'Size', 'Saved', 'Stylesheet', ''], rows, { empty: 'No mappings yet.' })}
<section><h2>New mapping</h2>
<form method="post" action="/console/mappings" class="card">${csrfField(ctx)}
  <label>For repository <select name="repository"><option value="">none yet</option>${options(
    unlinked.map((repository) => ({ value: repository.uuid, label: repository.name })),
    undefined,
  )}</select></label>
  <label>Instance name <input name="instance" pattern="[A-Za-z0-9][A-Za-z0-9._\\-]*" placeholder="${unlinked[0] ? instanceNameFor(unlinked[0].name) : 'eden-kathmandu'}"></label>
  <p class="muted small">Leave the name empty to use the repository's name.</p>
  <button type="submit" class="primary">Create</button>
</form></section>`,
      });
    }),
  );

  router.post(
    '/console/mappings',
    action(
      env,
      [...INTEGRATOR],
      async (req, user) => {
        const repositoryRef = field(req, 'repository')?.trim() || undefined;
        const repository = repositoryRef ? await env.sync.repositories.resolve(repositoryRef) : undefined;
        const instance = field(req, 'instance')?.trim() || (repository ? instanceNameFor(repository.name) : requiredField(req, 'instance', 'the instance name'));
        if (await workspace.exists(instance)) throw new SluiceError('MAPPING_EXISTS', `There is already a mapping ${instance}`, { status: 409, fix: 'Open it from the list' });
        await workspace.save(instance, { instance, unmapped: { policy: 'pass' }, resources: [] }, user.username, 'created');
        if (repository) await linkMapping(env.store, env.clock, repository.uuid, instance);
        return { to: instancePath(instance), flash: { kind: 'ok', message: `Created the mapping ${instance}${repository ? ` for ${repository.name}` : ''}.` } };
      },
      '/console/mappings',
    ),
  );

  router.get(
    '/console/mappings/:instance',
    page(env, [...INTEGRATOR], async (req, res, ctx) => {
      const instance = String(req.params.instance);
      const document = await workspace.current(instance);
      const repositories = await repositoriesUsing(env.store, instance);
      const payloads = await recentPayloads(env.store, repositories.length ? { repositories: repositories.map((repository) => repository.uuid), limit: 30 } : { limit: 30 });
      const data = {
        instance,
        document,
        problems: workspace.check(instance, document).problems,
        repositories: repositories.map((repository) => ({ uuid: repository.uuid, name: repository.name })),
        localResources: (await env.store.resources()).map((entry) => entry.resource),
        payloads,
        focus: {
          resource: queryText(req, 'resource') ?? null,
          field: queryText(req, 'field') ?? null,
          direction: queryText(req, 'direction') ?? null,
          value: queryText(req, 'value') ?? null,
        },
      };
      render(req, res, ctx, {
        title: `Mapping ${instance}`,
        mainClass: 'wide',
        scripts: ['xml-tools.js', 'mapping-editor.js'],
        body: html`${subnav(instance, '')}
${repositories.length
  ? html`<p class="muted">Used by ${repositories.map((repository) => repository.name).join(', ')}: remote values come from their captured runs.</p>`
  : html`<p class="flash flash-error">No repository uses this mapping yet: link one on its repository page to see remote values and apply the mapping.</p>`}
${jsonData('mapping-data', data)}
<div id="mapping-editor" class="editor" aria-live="polite"><p class="muted">Loading the editor…</p></div>
<noscript><p class="flash flash-error">The mapping editor needs JavaScript. The JSON can also be edited in mappings/${instance}.json and compiled with "sluice mapping compile".</p></noscript>`,
      });
    }),
  );

  router.get(
    '/console/mappings/:instance/versions',
    page(env, [...INTEGRATOR], async (req, res, ctx) => {
      const instance = String(req.params.instance);
      const versions = await workspace.versions(instance);
      const current = prettyMapping(await workspace.current(instance));
      const blocks = [];
      let previous = '';
      const loaded = [];
      for (const info of versions) loaded.push(await workspace.version(instance, info.version));
      for (const version of loaded) {
        const text = prettyMapping(version.document);
        const lines = diffLines(previous, text);
        const { added, removed } = changeCount(lines);
        const isCurrent = text === current && version === loaded[loaded.length - 1];
        blocks.push(html`<details class="version" id="version-${version.version}">
  <summary><strong>Version ${version.version}</strong> · ${time(version.saved_at)} · ${version.saved_by}${version.note ? ` · ${version.note}` : ''}
    <span class="muted small">+${added} −${removed}</span>${isCurrent ? html` ${badge('success', 'current')}` : ''}</summary>
  ${renderDiff(lines)}
  ${isCurrent ? '' : postButton(ctx, instancePath(instance, `/versions/${version.version}/revert`), `Go back to version ${version.version}`, { confirm: `Save version ${version.version} again as the current mapping?` })}
</details>`);
        previous = text;
      }
      render(req, res, ctx, {
        title: `Versions of ${instance}`,
        body: html`${subnav(instance, '/versions')}
<p class="muted">Each save is kept. Every version shows what changed from the one before; going back saves that version again as a new one.</p>
${blocks.length ? blocks.reverse() : html`<p class="empty">No versions kept yet.</p>`}`,
      });
    }),
  );

  router.post(
    '/console/mappings/:instance/versions/:version/revert',
    action(env, [...INTEGRATOR], async (req, user) => {
      const instance = String(req.params.instance);
      const raw = String(req.params.version);
      if (!/^\d{1,6}$/.test(raw)) throw new SluiceError('MAPPING_VERSION_NOT_FOUND', `There is no version ${raw}`, { status: 404 });
      const saved = await workspace.revert(instance, Number(raw), user.username);
      return { to: instancePath(instance, '/versions'), flash: { kind: 'ok', message: `Version ${raw} is current again (saved as version ${saved.version}).` } };
    }),
  );

  router.get(
    '/console/mappings/:instance/xsl',
    page(env, [...INTEGRATOR], async (req, res, ctx) => {
      const instance = String(req.params.instance);
      await workspace.current(instance);
      const xsl = await workspace.xsl(instance);
      render(req, res, ctx, {
        title: `Stylesheet of ${instance}`,
        body: html`${subnav(instance, '/xsl')}
<p class="muted">Generated from mappings/${instance}.json; never edit it by hand.</p>
${xsl ? html`<pre class="payload" id="generated-xsl">${xsl}</pre>` : html`<p class="empty">Not generated yet: save the mapping once.</p>`}`,
      });
    }),
  );

  router.get(
    '/console/mappings/:instance/unmapped',
    page(env, [...INTEGRATOR], async (req, res, ctx) => {
      const instance = String(req.params.instance);
      await workspace.current(instance);
      const xsl = await workspace.xsl(instance);
      const report = xsl ? await reports.report(instance, xsl) : undefined;
      const rows = (report?.counts ?? []).map(
        (entry) => html`<tr>
  <td>${entry.direction}</td><td>${entry.resource}</td><td>${entry.field}</td><td class="mono">${entry.value}</td><td>${entry.action}</td><td>${entry.count}</td>
  <td><a class="button" href="${instancePath(instance)}${query({ resource: entry.resource, field: entry.field, direction: entry.direction, value: entry.value })}">Map it</a></td>
</tr>`,
      );
      render(req, res, ctx, {
        title: `Unmapped values of ${instance}`,
        body: html`${subnav(instance, '/unmapped')}
${report
  ? html`<p class="muted">What the current mapping did not know in the last ${report.payloads} captured document${report.payloads === 1 ? '' : 's'} of the repositories using it.</p>
${table(['Direction', 'Resource', 'Field', 'Value', 'What happened', 'Times', ''], rows, { empty: 'Every value met recently had a mapping.' })}
${report.rejectedRecords.length ? html`<p>Records left out by a reject policy: <span class="mono small">${report.rejectedRecords.join(', ')}</span></p>` : ''}
${report.errors.length ? html`<div class="flash flash-error">${report.errors.map((error) => html`<p>${error}</p>`)}</div>` : ''}`
  : html`<p class="empty">The mapping has no generated stylesheet yet: save it once in the editor.</p>`}`,
      });
    }),
  );
}
