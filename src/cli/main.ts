import { Command, CommanderError } from 'commander';
import { version } from '../start.js';
import { registerExportCommand } from './commands/export.js';
import { registerImportCommand } from './commands/import.js';
import { registerStartCommand } from './commands/start.js';
import { registerRepoCommand } from './commands/repo.js';
import { registerSyncCommand } from './commands/sync.js';
import { registerTaskCommand } from './commands/task.js';
import { registerWorkerCommand } from './commands/worker.js';
import { registerStoreCommand } from './commands/store-copy.js';
import { registerMappingCommand } from './commands/mapping.js';
import { registerTransformCommand } from './commands/transform.js';
import { registerSourceCommand } from './commands/source.js';
import { registerBundleCommand } from './commands/bundle.js';
import { registerBackupCommands } from './commands/backup.js';
import { registerDiscoverCommand } from './commands/discover.js';
import { registerPoolCommand } from './commands/pool.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { describeFailure } from './failure-report.js';

export function buildProgram(): Command {
  const program = new Command('sluice')
    .description('Sluice: a gateway between Sahana Eden, Ushahidi, CAP/EDXL and spreadsheets')
    .version(version)
    .exitOverride()
    .showHelpAfterError();
  registerStartCommand(program);
  registerImportCommand(program);
  registerExportCommand(program);
  registerRepoCommand(program);
  registerTaskCommand(program);
  registerSyncCommand(program);
  registerWorkerCommand(program);
  registerStoreCommand(program);
  registerMappingCommand(program);
  registerTransformCommand(program);
  registerSourceCommand(program);
  registerBundleCommand(program);
  registerBackupCommands(program);
  registerDiscoverCommand(program);
  registerPoolCommand(program);
  return program;
}

/** Runs the CLI; returns the exit code instead of exiting so it can be tested in-process. */
export async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
  process.exitCode = undefined;
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    process.stderr.write(describeFailure(error));
    return exitCodeFor(error);
  }
}
