/**
 * `sluice repo add NAME URL [--user U --password P] [--yes]`: fingerprint first — the peer's uuid
 * is read without credentials and shown; without --yes the command asks before anything is sent.
 * Eden peers publish no fingerprint: the command says so and asks before sending the credentials
 * whose registration reply names the peer. Also `repo list`, `repo remove`, `repo schedule`.
 */
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { SluiceError } from '../../errors.js';
import type { RepositoryInput, RepositoryPatch } from '../../sync/repository-registry.js';
import { isSourceType } from '../../ushahidi/sources.js';
import { BYTES_PER_SECOND_RANGE, PAGE_SIZE_RANGE } from '../../transports/low-bandwidth-settings.js';
import { DURATION_FORMS, parseDuration } from '../durations.js';
import { EXIT } from '../exit-codes.js';
import { addGatewayOptions, withSyncCommands, type GatewayOptions } from './sync.js';

interface RepoAddOptions extends GatewayOptions {
  user?: string;
  password?: string;
  proxy?: string;
  acceptPush?: boolean;
  register?: boolean;
  yes?: boolean;
  json?: boolean;
  wireFormat?: string;
  pageSize?: string;
  maxBytesPerSecond?: string;
}

interface RepoSetOptions extends GatewayOptions {
  name?: string;
  peerUrl?: string;
  proxy?: string;
  acceptPush?: boolean;
  wireFormat?: string;
  pageSize?: string;
  maxBytesPerSecond?: string;
  mapping?: string;
  json?: boolean;
}

/** --wire-format, --page-size, --max-bytes-per-second; "none" clears the last two in `repo set`. */
function addLowBandwidthOptions(command: Command): Command {
  return command
    .option('--wire-format <format>', 's3xml (default) or s3json (Sluice peers only: smaller pages, faster to read)')
    .option('--page-size <records>', 'records per page of a pull or push (1–10000)')
    .option('--max-bytes-per-second <bytes>', 'bandwidth cap for this peer (compressed bytes)');
}

/** Checked here as well as in the registry, so the fix speaks of flags and "none", not JSON null. */
function wholeNumber(text: string, flag: string, range: { min: number; max: number }): number {
  const number = Number(text);
  const clears = flag === '--page-size' || flag === '--max-bytes-per-second' ? ` (in repo set, ${flag} none removes it)` : '';
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(number) || number < range.min || number > range.max) {
    throw new SluiceError('CLI_BAD_OPTION', `${flag} ${text} is not a whole number from ${range.min} to ${range.max}`, { status: 400, fix: `Give ${flag} a number from ${range.min} to ${range.max}${clears}` });
  }
  return number;
}

function lowBandwidthInput(options: { wireFormat?: string; pageSize?: string; maxBytesPerSecond?: string }): Pick<RepositoryInput, 'wire_format' | 'page_size' | 'max_bytes_per_second'> {
  if (options.wireFormat !== undefined && options.wireFormat !== 's3xml' && options.wireFormat !== 's3json') {
    throw new SluiceError('CLI_BAD_OPTION', `--wire-format ${options.wireFormat} is not s3xml or s3json`, { status: 400, fix: 'Use --wire-format s3xml or --wire-format s3json' });
  }
  return {
    ...(options.wireFormat === undefined ? {} : { wire_format: options.wireFormat }),
    ...(options.pageSize === undefined ? {} : { page_size: wholeNumber(options.pageSize, '--page-size', PAGE_SIZE_RANGE) }),
    ...(options.maxBytesPerSecond === undefined ? {} : { max_bytes_per_second: wholeNumber(options.maxBytesPerSecond, '--max-bytes-per-second', BYTES_PER_SECOND_RANGE) }),
  };
}

/**
 * Asks a yes/no question on stderr. Stdin ending before any answer (a script, `< /dev/null`) is a
 * usage error rather than a "no": the caller most likely forgot --yes.
 */
async function confirm(question: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
  try {
    process.stderr.write(question);
    const answer = await new Promise<string | undefined>((resolve) => {
      prompt.once('line', resolve);
      prompt.once('close', () => resolve(undefined));
    });
    if (answer === undefined) {
      process.stderr.write('\n');
      throw new SluiceError('NO_ANSWER', 'No answer to the confirmation question (stdin ended); nothing was sent or stored', {
        status: 400,
        fix: 'Answer y at the prompt, or pass --yes once you have checked the uuid shown',
      });
    }
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}

function repositoryExists(message: string, name: string): SluiceError {
  const word = /^[\w.@-]+$/.test(name) ? name : `'${name.replace(/'/g, "'\\''")}'`;
  return new SluiceError('REPOSITORY_EXISTS', `${message}; nothing was changed`, {
    status: 409,
    fix: `Change it with sluice repo set ${word} (e.g. --peer-url, --name), or remove it first with sluice repo remove ${word}`,
  });
}

export function registerRepoCommand(program: Command): void {
  const repo = program.command('repo').description('peers this gateway synchronises with (Eden instances and other Sluice gateways)');

  addGatewayOptions(addLowBandwidthOptions(
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
  )).action(async (name: string, url: string, options: RepoAddOptions) => {
    const lowBandwidth = lowBandwidthInput(options);
    if ((options.user === undefined) !== (options.password === undefined)) {
      throw new SluiceError('BAD_REPOSITORY', 'Give both --user and --password, or neither', { fix: 'sluice repo add NAME URL --user U --password P' });
    }
    const added = await withSyncCommands(options, async (commands) => {
      // A repository the peer registered itself (no URL yet) is completed by adding it here; one
      // added before is changed with repo set, not added again.
      const existing = await commands.listRepositories();
      const sameName = existing.find((repository) => repository.name.toLowerCase() === name.toLowerCase());
      if (sameName?.url !== undefined) throw repositoryExists(`A repository is already called "${sameName.name}" (${sameName.uuid} at ${sameName.url})`, sameName.name);
      const found = await commands.fingerprint(url, options.proxy);
      if (sameName && found && found.uuid !== sameName.uuid) throw repositoryExists(`A repository is already called "${sameName.name}" (${sameName.uuid})`, sameName.name);
      const samePeer = found && existing.find((repository) => repository.uuid === found.uuid);
      if (samePeer?.url !== undefined) throw repositoryExists(`The peer at ${url} (${found!.uuid}) is added already, as "${samePeer.name}"`, samePeer.name);
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
        ...lowBandwidth,
      });
    });
    if (!added) {
      process.stderr.write('Cancelled; nothing was sent or stored.\n');
      process.exitCode = EXIT.DECLINED;
      return;
    }
    if (options.json) process.stdout.write(`${JSON.stringify(added, null, 2)}\n`);
    else process.stdout.write(`Added repository "${added.name}": ${added.uuid} (${added.software})${added.registered_at ? ', registered with the peer' : ''}\n`);
  });

  addGatewayOptions(
    addLowBandwidthOptions(
      repo
        .command('set')
        .description('change a peer: name, URL, proxy, pushes, wire format, page size, bandwidth cap ("none" clears the last two)')
        .argument('<repository>', 'name or uuid')
        .option('--name <name>', 'a new name')
        .option('--peer-url <url>', "the peer's new base URL")
        .option('--proxy <url>', 'HTTP proxy for this peer ("none" to use the default)')
        .option('--accept-push', 'accept pushes from this peer')
        .option('--no-accept-push', 'refuse pushes from this peer')
        .option('--mapping <instance>', 'apply mappings/<instance>.json to every sync with this peer ("none" unlinks); it must exist and compile')
        .option('--json', 'print the repository as JSON'),
    ),
  ).action(async (reference: string, options: RepoSetOptions) => {
    const cleared = (value: string | undefined) => value?.toLowerCase() === 'none';
    const lowBandwidth = lowBandwidthInput({
      ...(options.wireFormat === undefined ? {} : { wireFormat: options.wireFormat }),
      ...(options.pageSize === undefined || cleared(options.pageSize) ? {} : { pageSize: options.pageSize }),
      ...(options.maxBytesPerSecond === undefined || cleared(options.maxBytesPerSecond) ? {} : { maxBytesPerSecond: options.maxBytesPerSecond }),
    });
    const patch: RepositoryPatch = {
      ...(options.name === undefined ? {} : { name: options.name }),
      ...(options.peerUrl === undefined ? {} : { url: options.peerUrl }),
      ...(options.proxy === undefined ? {} : { proxy: cleared(options.proxy) ? null : options.proxy }),
      ...(options.acceptPush === undefined ? {} : { accept_push: options.acceptPush }),
      ...lowBandwidth,
      ...(cleared(options.pageSize) ? { page_size: null } : {}),
      ...(cleared(options.maxBytesPerSecond) ? { max_bytes_per_second: null } : {}),
    };
    const mapping = options.mapping === undefined ? undefined : cleared(options.mapping) ? null : options.mapping;
    if (Object.keys(patch).length === 0 && mapping === undefined) {
      throw new SluiceError('CLI_BAD_OPTION', 'Nothing to change', { status: 400, fix: 'Give at least one option, e.g. --page-size 200; see sluice repo set --help' });
    }
    const changed = await withSyncCommands(options, async (commands) => {
      const target = (await commands.listRepositories()).find((repository) => repository.uuid === reference || repository.name === reference);
      if (target && isSourceType(target.apitype) && patch.wire_format !== undefined) {
        throw new SluiceError('NOT_A_PEER', `${target.name} is an Ushahidi source (${target.apitype}), polled through the Ushahidi API: --wire-format applies to Eden and Sluice peers only`, {
          status: 400,
          fix: `Leave out --wire-format; sluice source --help lists what a source can change`,
        });
      }
      // The mapping is checked (and linked) first: a missing or broken one leaves everything as it was.
      if (mapping !== undefined) await commands.linkMapping(reference, mapping);
      if (Object.keys(patch).length > 0) return commands.updateRepository(reference, patch);
      return (await commands.listRepositories()).find((repository) => repository.uuid === reference || repository.name === reference)!;
    });
    if (options.json) process.stdout.write(`${JSON.stringify(changed, null, 2)}\n`);
    else {
      process.stdout.write(`Changed ${changed.name} (${changed.uuid}).\n`);
      if (mapping !== undefined) process.stdout.write(mapping === null ? 'No mapping is applied to its syncs now.\n' : `Its syncs apply the mapping ${mapping} from the next run.\n`);
    }
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
      .option('--every <interval>', `interval: ${DURATION_FORMS}; Eden's default is 10m`)
      .option('--cron <expression>', 'cron expression of five fields (minute hour day month weekday) or six (seconds first), e.g. "*/10 * * * *"')
      .option('--disable', 'keep the schedule but do not run it'),
  ).action(async (reference: string, options: GatewayOptions & { every?: string; cron?: string; disable?: boolean }) => {
    if ((options.every === undefined) === (options.cron === undefined)) {
      throw new SluiceError('BAD_SCHEDULE', 'Give either --every INTERVAL or --cron EXPRESSION', { fix: 'sluice repo schedule NAME --every 10m' });
    }
    const job = await withSyncCommands(options, (commands) =>
      commands.setSchedule(reference, {
        ...(options.every === undefined ? {} : { interval_seconds: parseDuration(options.every, '--every') }),
        ...(options.cron === undefined ? {} : { cron: options.cron }),
        enabled: !options.disable,
      }),
    );
    process.stdout.write(`${reference}: ${job.cron ? `cron "${job.cron}"` : `every ${job.interval_seconds} s`}${job.enabled ? '' : ' (disabled)'}\n`);
  });
}
