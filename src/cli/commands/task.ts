/**
 * `sluice task add REPO RESOURCE [--mode pull|push|both]`: what to synchronise with a repository.
 * Eden's defaults for the rest (all four methods, update and conflict policy NEWER, components).
 */
import type { Command } from 'commander';
import type { TaskInput } from '../../sync/task-registry.js';
import { addGatewayOptions, withSyncCommands, type GatewayOptions } from './sync.js';

interface TaskAddOptions extends GatewayOptions {
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

export function registerTaskCommand(program: Command): void {
  const task = program.command('task').description('resources synchronised with a repository');

  addGatewayOptions(
    task
      .command('add')
      .description('synchronise a resource with a repository')
      .argument('<repository>', 'repository name or uuid')
      .argument('<resource>', 'table, e.g. org_office')
      .option('--mode <mode>', 'pull, push, both (default) or none')
      .option('--strategy <methods>', 'allowed import methods, comma-separated (default create,update,delete,merge)')
      .option('--update-policy <policy>', 'THIS, OTHER, NEWER (default) or MASTER')
      .option('--conflict-policy <policy>', 'THIS, OTHER, NEWER (default) or MASTER')
      .option('--filter <key=value>', 'URL filter such as ~.obsolete=False (repeatable)', collect)
      .option('--no-components', 'leave components out')
      .option('--json', 'print the task as JSON'),
  ).action(async (repository: string, resource: string, options: TaskAddOptions) => {
    const input: TaskInput = {
      ...(options.mode === undefined ? {} : { mode: options.mode }),
      ...(options.strategy === undefined ? {} : { strategy: options.strategy.split(',').map((method) => method.trim().toLowerCase()).filter(Boolean) }),
      ...(options.updatePolicy === undefined ? {} : { update_policy: options.updatePolicy.toUpperCase() }),
      ...(options.conflictPolicy === undefined ? {} : { conflict_policy: options.conflictPolicy.toUpperCase() }),
      ...(options.filter === undefined ? {} : { filters: options.filter }),
      ...(options.components === false ? { components: false } : {}),
    };
    const added = await withSyncCommands(options, (commands) => commands.addTask(repository, resource, input));
    if (options.json) process.stdout.write(`${JSON.stringify(added, null, 2)}\n`);
    else process.stdout.write(`Task ${added.id}: ${added.resource} with ${repository}, mode ${added.mode}\n`);
  });

  addGatewayOptions(task.command('list').description('list tasks').argument('[repository]', 'only this repository').option('--json', 'print JSON')).action(
    async (repository: string | undefined, options: GatewayOptions & { json?: boolean }) => {
      const tasks = await withSyncCommands(options, (commands) => commands.listTasks(repository));
      if (options.json) {
        process.stdout.write(`${JSON.stringify(tasks, null, 2)}\n`);
        return;
      }
      for (const entry of tasks) {
        const policy = typeof entry.update_policy === 'string' ? entry.update_policy : JSON.stringify(entry.update_policy);
        process.stdout.write(`${entry.id}\t${entry.repository}\t${entry.resource}\t${entry.mode}\t${policy}/${entry.conflict_policy}\t${entry.filters.join(' ')}\n`);
      }
    },
  );

  addGatewayOptions(task.command('remove').description('remove a task and its checkpoints').argument('<id>', 'task id')).action(async (id: string, options: GatewayOptions) => {
    await withSyncCommands(options, (commands) => commands.removeTask(id));
    process.stdout.write(`Removed task ${id}\n`);
  });
}
