/**
 * `sluice task add REPO RESOURCE [--mode pull|push|both]`: what to synchronise with a repository.
 * Eden's defaults for the rest (all four methods, update and conflict policy NEWER, components).
 * `task set` changes one, `task list` and `task remove`.
 */
import type { Command } from 'commander';
import { isSluiceError, SluiceError } from '../../errors.js';
import type { SyncTaskRecord } from '../../store/store.js';
import type { TaskInput } from '../../sync/task-registry.js';
import { addGatewayOptions, withSyncCommands, type GatewayOptions } from './sync.js';

interface TaskOptions extends GatewayOptions {
  mode?: string;
  strategy?: string;
  updatePolicy?: string;
  conflictPolicy?: string;
  filter?: string[];
  components?: boolean;
  json?: boolean;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function addTaskOptions(command: Command, defaults: boolean): Command {
  const fallback = (text: string) => (defaults ? ` (default ${text})` : '');
  return command
    .option('--mode <mode>', `pull, push, both${fallback('both')} or none`)
    .option('--strategy <methods>', `allowed import methods, comma-separated${fallback('create,update,delete,merge')}`)
    .option('--update-policy <policy>', `THIS, OTHER, NEWER${fallback('NEWER')} or MASTER`)
    .option('--conflict-policy <policy>', `THIS, OTHER, NEWER${fallback('NEWER')} or MASTER`)
    .option('--filter <key=value>', `URL filter such as ~.obsolete=False (repeatable${defaults ? '' : '; replaces the list'})`, collect)
    .option('--no-components', 'leave components out')
    .option('--json', 'print the task as JSON');
}

function taskInput(options: TaskOptions, command: Command): TaskInput {
  return {
    ...(options.mode === undefined ? {} : { mode: options.mode }),
    ...(options.strategy === undefined ? {} : { strategy: options.strategy.split(',').map((method) => method.trim().toLowerCase()).filter(Boolean) }),
    ...(options.updatePolicy === undefined ? {} : { update_policy: options.updatePolicy.toUpperCase() }),
    ...(options.conflictPolicy === undefined ? {} : { conflict_policy: options.conflictPolicy.toUpperCase() }),
    ...(options.filter === undefined ? {} : { filters: options.filter }),
    ...(command.getOptionValueSource('components') === 'cli' ? { components: options.components !== false } : {}),
  };
}

function policyText(task: SyncTaskRecord): string {
  const update = typeof task.update_policy === 'string' ? task.update_policy : JSON.stringify(task.update_policy);
  return `${update}/${task.conflict_policy}`;
}

export function registerTaskCommand(program: Command): void {
  const task = program.command('task').description('resources synchronised with a repository');

  addGatewayOptions(
    addTaskOptions(task.command('add').description('synchronise a resource with a repository').argument('<repository>', 'repository name or uuid').argument('<resource>', 'table, e.g. org_office'), true),
  ).action(async (repository: string, resource: string, options: TaskOptions, command: Command) => {
    const input = taskInput(options, command);
    const { added, known } = await withSyncCommands(options, async (commands) => {
      try {
        return { added: await commands.addTask(repository, resource, input), known: await commands.knownTables(repository) };
      } catch (error) {
        if (isSluiceError(error) && error.code === 'TASK_EXISTS') {
          throw new SluiceError(error.code, error.message, { status: error.status, cause: error, fix: `Change it with sluice task set ${repository} ${resource} (same options as task add), or remove it first (sluice task list ${repository} shows its id)` });
        }
        throw error;
      }
    });
    if (options.json) process.stdout.write(`${JSON.stringify(added, null, 2)}\n`);
    else process.stdout.write(`Task ${added.id}: ${added.resource} with ${repository}, mode ${added.mode}\n`);
    // Only a warning: the peer may hold tables this gateway has never seen.
    if (known !== undefined && !known.includes(resource)) {
      process.stderr.write(`warning: neither this gateway nor what it has heard from ${repository} knows a table ${resource}; check the spelling (sluice task set or task remove fix a mistake)\n`);
    }
  });

  addGatewayOptions(
    addTaskOptions(
      task.command('set').description("change a repository's task for a resource (a new filter or components setting starts it over)").argument('<repository>', 'repository name or uuid').argument('<resource>', 'table, e.g. org_office'),
      false,
    ),
  ).action(async (repository: string, resource: string, options: TaskOptions, command: Command) => {
    const input = taskInput(options, command);
    if (Object.keys(input).length === 0) {
      throw new SluiceError('CLI_BAD_OPTION', 'Nothing to change', { status: 400, fix: 'Give at least one option, e.g. --mode pull; see sluice task set --help' });
    }
    const changed = await withSyncCommands(options, (commands) => commands.updateTask(repository, resource, input));
    if (options.json) process.stdout.write(`${JSON.stringify(changed, null, 2)}\n`);
    else process.stdout.write(`Task ${changed.id}: ${changed.resource} with ${repository}, mode ${changed.mode}, policies ${policyText(changed)}\n`);
  });

  addGatewayOptions(task.command('list').description('list tasks').argument('[repository]', 'only this repository').option('--json', 'print JSON')).action(
    async (repository: string | undefined, options: GatewayOptions & { json?: boolean }) => {
      const { tasks, names } = await withSyncCommands(options, async (commands) => ({
        tasks: await commands.listTasks(repository),
        names: new Map((await commands.listRepositories()).map((entry) => [entry.uuid, entry.name])),
      }));
      if (options.json) {
        process.stdout.write(`${JSON.stringify(tasks, null, 2)}\n`);
        return;
      }
      if (tasks.length === 0) {
        process.stdout.write(`No tasks${repository ? ` with ${repository}` : ''}. Add one with sluice task add REPOSITORY TABLE\n`);
        return;
      }
      process.stdout.write('id\trepository\tresource\tmode\tupdate/conflict policy\tfilters\n');
      for (const entry of tasks) {
        process.stdout.write(`${entry.id}\t${names.get(entry.repository) ?? entry.repository}\t${entry.resource}\t${entry.mode}\t${policyText(entry)}\t${entry.filters.join(' ')}\n`);
      }
    },
  );

  addGatewayOptions(task.command('remove').description('remove a task and its checkpoints').argument('<id>', 'task id (see sluice task list)')).action(async (id: string, options: GatewayOptions) => {
    await withSyncCommands(options, (commands) => commands.removeTask(id));
    process.stdout.write(`Removed task ${id}\n`);
  });
}
