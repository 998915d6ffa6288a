/**
 * `sluice source add NAME BASE_URL --type ushahidi-v5|ushahidi-v2 --user U --password P
 * [--resource event_incident_report]`: an Ushahidi deployment whose posts become tickets. Sources
 * are repositories of their own kind, so `sluice sync NAME` polls one now (then sends changed
 * ticket statuses back) and `sluice repo schedule NAME --every S` changes its poll schedule.
 * Also `source list`, `source remove`, and `source reconcile` (the status sweep, now).
 */
import type { Command } from 'commander';
import { SluiceError } from '../../errors.js';
import { ensureIdentity } from '../../gateway-identity.js';
import { createLogger } from '../../logger.js';
import { systemClock } from '../../s3xml/timestamps.js';
import { openStore } from '../../start.js';
import { createSyncRuntime } from '../../sync/runtime.js';
import { isSourceType, type SourceView, type UshahidiSources } from '../../ushahidi/sources.js';
import { configFrom } from '../context.js';
import { exitCodeForRun } from './sync.js';
import { DURATION_FORMS, parseDuration } from '../durations.js';

interface DataOptions {
  data?: string;
  store?: string;
}

function addDataOptions(command: Command): Command {
  return command.option('--data <dir>', 'data directory').option('--store <locator>', 'sqlite (default) or a mongodb:// URL');
}

/** Opens the data directory's store and the sources for one command, and closes both. */
async function withSources<T>(options: DataOptions, work: (sources: UshahidiSources) => Promise<T>): Promise<T> {
  const config = configFrom({ ...(options.data ? { data: options.data } : {}), ...(options.store ? { store: options.store } : {}) });
  const store = await openStore(config);
  let runtime: ReturnType<typeof createSyncRuntime> | undefined;
  try {
    const uuid = await store.getSetting('gateway.uuid');
    const identity = uuid ? { uuid, name: (await store.getSetting('gateway.name')) ?? config.name } : await ensureIdentity(store, config.name);
    runtime = createSyncRuntime({ store, config, logger: createLogger({ level: 'warn', destination: process.stderr }), clock: systemClock, identity });
    return await work(runtime.sources);
  } finally {
    await runtime?.close();
    await store.close();
  }
}

function seconds(value: string, what: string): number {
  return parseDuration(value, what, { allowZero: true });
}

function describe(source: SourceView): string {
  return `${source.name}\t${source.uuid}\t${source.type}\t${source.url}\t→ ${source.resource} (triage status in field ${source.status_field}${source.mapping ? `, mapping ${source.mapping}` : ''})`;
}

interface AddOptions extends DataOptions {
  type?: string;
  user?: string;
  password?: string;
  resource?: string;
  statusField?: string;
  mapping?: string;
  timeZone?: string;
  pageSize?: string;
  every?: string;
  reconcileEvery?: string;
  check?: boolean;
  json?: boolean;
}

export function registerSourceCommand(program: Command): void {
  const source = program.command('source').description('Ushahidi deployments whose posts become tickets (polled on a schedule, statuses sent back)');

  addDataOptions(
    source
      .command('add')
      .description('register an Ushahidi deployment (logs in and reads one post first)')
      .argument('<name>', 'a name for the source')
      .argument('<url>', 'the deployment: the platform API host (v5) or the site root (classic v2)')
      .requiredOption('--type <type>', 'ushahidi-v5 or ushahidi-v2')
      .option('--user <user>', 'account (v5: its email; needs the admin role or "Manage Posts" to send statuses)')
      .option('--password <password>', 'its password (stored encrypted)')
      .option('--resource <table>', 'the ticket table posts become (irs_ireport for Eden before 2021)', 'event_incident_report')
      .option('--status-field <field>', "the ticket's triage status field", 'status')
      .option('--mapping <instance>', "value mapping mappings/<instance>.json (categories → incident types, statuses)")
      .option('--time-zone <zone>', "v2: the deployment's site_timezone (its dates carry none)")
      .option('--page-size <n>', 'posts per page', '500')
      .option('--every <interval>', `poll interval: ${DURATION_FORMS} (default 5m; 0: no schedule)`)
      .option('--reconcile-every <interval>', 'compare every status at this interval, e.g. 1h (the default; 0: never)')
      .option('--no-check', 'store without logging in first')
      .option('--json', 'print the source as JSON'),
  ).action(async (name: string, url: string, options: AddOptions) => {
    if (!options.type || !isSourceType(options.type)) {
      throw new SluiceError('BAD_SOURCE', `--type must be ushahidi-v5 or ushahidi-v2, not "${options.type ?? ''}"`, { fix: 'e.g. --type ushahidi-v5' });
    }
    const type = options.type;
    if (!/^\d+$/.test(options.pageSize ?? '500')) throw new SluiceError('BAD_SOURCE', `--page-size "${options.pageSize}" is not a number`, { fix: 'e.g. --page-size 500' });
    const added = await withSources(options, (sources) =>
      sources.add({
        name,
        url,
        type,
        ...(options.user === undefined ? {} : { username: options.user }),
        ...(options.password === undefined ? {} : { password: options.password }),
        ...(options.resource === undefined ? {} : { resource: options.resource }),
        ...(options.statusField === undefined ? {} : { statusField: options.statusField }),
        ...(options.mapping === undefined ? {} : { mapping: options.mapping }),
        ...(options.timeZone === undefined ? {} : { timeZone: options.timeZone }),
        pageSize: Number(options.pageSize ?? '500'),
        ...(options.every === undefined ? {} : { pollSeconds: seconds(options.every, '--every') }),
        ...(options.reconcileEvery === undefined ? {} : { reconcileSeconds: seconds(options.reconcileEvery, '--reconcile-every') }),
        check: options.check !== false,
      }),
    );
    if (options.json) process.stdout.write(`${JSON.stringify(added, null, 2)}\n`);
    else process.stdout.write(`Added source "${added.name}": ${added.uuid} (${added.type}); posts become ${added.resource} records. Poll it now with: sluice sync ${added.name}\n`);
  });

  addDataOptions(source.command('list').description('list sources').option('--json', 'print JSON')).action(async (options: DataOptions & { json?: boolean }) => {
    const list = await withSources(options, (sources) => sources.list());
    if (options.json) process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    else for (const item of list) process.stdout.write(`${describe(item)}\n`);
  });

  addDataOptions(source.command('remove').description('remove a source with its schedules and cursors (its tickets stay)').argument('<source>', 'name or uuid')).action(
    async (reference: string, options: DataOptions) => {
      await withSources(options, (sources) => sources.remove(reference));
      process.stdout.write(`Removed ${reference}\n`);
    },
  );

  addDataOptions(
    source
      .command('reconcile')
      .description("compare every post's status with its ticket now (status changes bump no timestamp in Ushahidi)")
      .argument('<source>', 'name or uuid')
      .option('--json', 'print the run as JSON'),
  ).action(async (reference: string, options: DataOptions & { json?: boolean }) => {
    const outcome = await withSources(options, (sources) => sources.reconcile(reference, { trigger: 'cli' }));
    const { captures: _captures, ...run } = outcome.run;
    if (options.json) process.stdout.write(`${JSON.stringify({ ...run, reconcile: outcome.reconcile }, null, 2)}\n`);
    else {
      const counts = run.counts;
      process.stdout.write(
        `${reference}: ${run.status}; ${counts.reconcile_checked ?? 0} posts compared, ${counts.pull_records ?? 0} changed in Ushahidi, ${counts.push_updated ?? 0} statuses sent, ${
          counts.status_conflicts ?? 0
        } changed on both sides\n`,
      );
      if (run.status !== 'success' && run.message) process.stderr.write(`  ${run.message}\n`);
    }
    process.exitCode = exitCodeForRun(run.status);
  });
}
