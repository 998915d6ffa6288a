/**
 * `sluice repo add NAME URL [--user U --password P] [--yes]`: fingerprint first — the peer's uuid
 * is read without credentials and shown; without --yes the command asks before anything is sent.
 * Eden peers publish no fingerprint: the command says so and asks before sending the credentials
 * whose registration reply names the peer. Also `repo list`, `repo remove`, `repo schedule`.
 */
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { SluiceError } from '../../errors.js';
import { addGatewayOptions, withSyncCommands, type GatewayOptions } from './sync.js';

/** Exit code when the operator answers no: nothing was sent or stored. */
const DECLINED = 1;

interface RepoAddOptions extends GatewayOptions {
  user?: string;
  password?: string;
  proxy?: string;
  acceptPush?: boolean;
  register?: boolean;
  yes?: boolean;
  json?: boolean;
}

async function confirm(question: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
  try {
    process.stderr.write(question);
    const answer = await new Promise<string>((resolve) => {
      prompt.once('line', resolve);
      prompt.once('close', () => resolve(''));
    });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}

export function registerRepoCommand(program: Command): void {
  const repo = program.command('repo').description('peers this gateway synchronises with (Eden instances and other Sluice gateways)');

  addGatewayOptions(
    repo
      .command('add')
      .description("register a peer: read its uuid first, confirm it, then send credentials and register (Eden's register.json)")
      .argument('<name>', 'a name for the peer')
      .argument('<url>', "the peer's base URL, e.g. https://eden.example.org/eden")
      .option('--user <user>', 'user at the peer (Eden: the email address)')
      .option('--password <password>', 'password at the peer (stored encrypted)')
      .option('--proxy <url>', 'HTTP proxy for this peer')
      .option('--no-accept-push', 'refuse pushes from this peer')
      .option('--no-register', 'do not register this gateway with the peer')
      .option('--yes', 'do not ask for confirmation')
      .option('--json', 'print the repository as JSON'),
  ).action(async (name: string, url: string, options: RepoAddOptions) => {
    if ((options.user === undefined) !== (options.password === undefined)) {
      throw new SluiceError('BAD_REPOSITORY', 'Give both --user and --password, or neither', { fix: 'sluice repo add NAME URL --user U --password P' });
    }
    const added = await withSyncCommands(options, async (commands) => {
      const found = await commands.fingerprint(url, options.proxy);
      if (found) {
        process.stdout.write(`The peer at ${url} is ${found.uuid}${found.name ? ` ("${found.name}")` : ''} (Sluice)\n`);
      } else {
        process.stdout.write(
          `The peer at ${url} does not publish its uuid (an Eden instance). It is learnt by registering, which sends the credentials to ${url}.\n`,
        );
        if (options.user === undefined) {
          throw new SluiceError('PEER_FINGERPRINT_UNAVAILABLE', 'An Eden peer needs credentials to register', { fix: 'Add --user and --password' });
        }
      }
      if (!options.yes) {
        const question = found
          ? `Register "${name}" as ${found.uuid}${options.user !== undefined ? ' and send it the credentials' : ''}? [y/N] `
          : `Send the credentials to ${url} and register? [y/N] `;
        if (!(await confirm(question))) return undefined;
      }
      return commands.addRepository({
        name,
        url,
        ...(options.user === undefined ? {} : { username: options.user, password: options.password! }),
        ...(options.proxy ? { proxy: options.proxy } : {}),
        ...(options.acceptPush === false ? { accept_push: false } : {}),
        ...(options.register === false ? { register: false } : {}),
        ...(found ? { expect_uuid: found.uuid } : {}),
      });
    });
    if (!added) {
      process.stderr.write('Cancelled; nothing was sent or stored.\n');
      process.exitCode = DECLINED;
      return;
    }
    if (options.json) process.stdout.write(`${JSON.stringify(added, null, 2)}\n`);
    else process.stdout.write(`Added repository "${added.name}": ${added.uuid} (${added.software})${added.registered_at ? ', registered with the peer' : ''}\n`);
  });

  addGatewayOptions(repo.command('list').description('list repositories').option('--json', 'print JSON')).action(async (options: GatewayOptions & { json?: boolean }) => {
    const repositories = await withSyncCommands(options, (commands) => commands.listRepositories());
    if (options.json) {
      process.stdout.write(`${JSON.stringify(repositories, null, 2)}\n`);
      return;
    }
    for (const repository of repositories) {
      process.stdout.write(`${repository.name}\t${repository.uuid}\t${repository.url ?? '(registered by the peer)'}\t${repository.software}\n`);
    }
  });

  addGatewayOptions(repo.command('remove').description('remove a repository with its tasks and schedule').argument('<repository>', 'name or uuid')).action(
    async (reference: string, options: GatewayOptions) => {
      await withSyncCommands(options, (commands) => commands.removeRepository(reference));
      process.stdout.write(`Removed ${reference}\n`);
    },
  );

  addGatewayOptions(
    repo
      .command('schedule')
      .description('run the sync of a repository on a schedule (the worker runs it)')
      .argument('<repository>', 'name or uuid')
      .option('--every <seconds>', 'interval in seconds (Eden default 600)')
      .option('--cron <expression>', 'cron expression, e.g. "*/10 * * * *"')
      .option('--disable', 'keep the schedule but do not run it'),
  ).action(async (reference: string, options: GatewayOptions & { every?: string; cron?: string; disable?: boolean }) => {
    if ((options.every === undefined) === (options.cron === undefined)) {
      throw new SluiceError('BAD_SCHEDULE', 'Give either --every SECONDS or --cron EXPRESSION', { fix: 'sluice repo schedule NAME --every 600' });
    }
    const job = await withSyncCommands(options, (commands) =>
      commands.setSchedule(reference, {
        ...(options.every === undefined ? {} : { interval_seconds: Number(options.every) }),
        ...(options.cron === undefined ? {} : { cron: options.cron }),
        enabled: !options.disable,
      }),
    );
    process.stdout.write(`${reference}: ${job.cron ? `cron "${job.cron}"` : `every ${job.interval_seconds} s`}${job.enabled ? '' : ' (disabled)'}\n`);
  });
}
