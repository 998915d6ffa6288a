/**
 * `sluice pool …`: sync pools and the beacon, on the data directory's store (a running gateway on
 * the same store announces changed interests at its next browse).
 *   pool interest add TAG [--direction download|upload|both] · pool interest remove TAG · pool interests
 *   pool discovered                       gateways heard on the LAN
 *   pool create NAME --tag T [--resource R …] [task options] [--every S | --cron E] [--user U --password P]
 *   pool update NAME [same options]       members' tasks follow
 *   pool list · pool show NAME · pool remove NAME
 *   pool candidates NAME [--all] · pool accept NAME UUID [--name N] [--user U --password P] · pool reject NAME UUID
 *   pool join NAME REPOSITORY · pool leave NAME REPOSITORY
 */
import type { Command } from 'commander';
import { SluiceError } from '../../errors.js';
import { ensureIdentity } from '../../gateway-identity.js';
import { createLogger } from '../../logger.js';
import { Beacon } from '../../pools/beacon.js';
import { PoolRegistry, type PoolTemplate } from '../../pools/pool-registry.js';
import { systemClock } from '../../s3xml/timestamps.js';
import { createSecretBox, loadSecretKey } from '../../secrets.js';
import { openStore } from '../../start.js';
import { createSyncRuntime } from '../../sync/runtime.js';
import { configFrom } from '../context.js';
import { DURATION_FORMS, parseDuration } from '../durations.js';

interface StoreOptions {
  data?: string;
  store?: string;
}

interface TemplateOptions extends StoreOptions {
  tag?: string[];
  resource?: string[];
  mode?: string;
  strategy?: string;
  updatePolicy?: string;
  conflictPolicy?: string;
  filter?: string[];
  components?: boolean;
  every?: string;
  cron?: string;
  noSchedule?: boolean;
  user?: string;
  password?: string;
  json?: boolean;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function print(value: unknown, json: boolean | undefined, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : text());
}

async function withPools<T>(options: StoreOptions, work: (pools: PoolRegistry, beacon: Beacon) => Promise<T>): Promise<T> {
  const config = configFrom({ ...(options.data ? { data: options.data } : {}), ...(options.store ? { store: options.store } : {}) });
  const store = await openStore(config);
  const runtimeLogger = createLogger({ level: 'warn', destination: process.stderr });
  let close: (() => Promise<void>) | undefined;
  try {
    const stored = await store.getSetting('gateway.uuid');
    const identity = stored ? { uuid: stored, name: (await store.getSetting('gateway.name')) ?? config.name } : await ensureIdentity(store, config.name);
    const runtime = createSyncRuntime({ store, config, logger: runtimeLogger, clock: systemClock, identity });
    close = () => runtime.close();
    const secrets = createSecretBox(loadSecretKey({ dataDir: config.dataDir, ...(config.secretKey === undefined ? {} : { secretKey: config.secretKey }) }));
    const pools = new PoolRegistry({ store, clock: systemClock, repositories: runtime.sync.repositories, tasks: runtime.sync.tasks, secrets });
    return await work(pools, new Beacon(store, systemClock));
  } finally {
    await close?.();
    await store.close();
  }
}

function storeOptions(command: Command): Command {
  return command.option('--data <dir>', 'data directory').option('--store <locator>', 'sqlite (default) or a mongodb:// URL');
}

function templateOptions(command: Command): Command {
  return storeOptions(command)
    .option('--tag <tag>', 'a tag of the pool (repeatable)', collect)
    .option('--resource <table>', 'a table every member synchronises (repeatable; replaces the list)', collect)
    .option('--mode <mode>', 'pull, push, both (default) or none')
    .option('--strategy <methods>', 'allowed import methods, comma-separated')
    .option('--update-policy <policy>', 'THIS, OTHER, NEWER or MASTER')
    .option('--conflict-policy <policy>', 'THIS, OTHER, NEWER or MASTER')
    .option('--filter <key=value>', 'URL filter (repeatable; replaces the list)', collect)
    .option('--no-components', 'leave components out')
    .option('--every <interval>', `members' sync interval: ${DURATION_FORMS}`)
    .option('--cron <expression>', "members' sync schedule as cron")
    .option('--no-schedule', 'no pool schedule (members keep their own)')
    .option('--user <user>', 'shared username at the members')
    .option('--password <password>', 'shared password (stored encrypted)')
    .option('--json', 'print JSON');
}

function templateFrom(options: TemplateOptions, command: Command): Partial<Record<keyof PoolTemplate, unknown>> {
  const given = (name: string) => command.getOptionValueSource(name) === 'cli';
  if (options.every !== undefined && options.cron !== undefined) {
    throw new SluiceError('BAD_SCHEDULE', 'Give either --every INTERVAL or --cron EXPRESSION', { fix: 'sluice pool update NAME --every 600' });
  }
  return {
    ...(options.resource ? { resources: options.resource } : {}),
    ...(options.mode ? { mode: options.mode } : {}),
    ...(options.strategy ? { strategy: options.strategy.split(',').map((method) => method.trim()) } : {}),
    ...(options.updatePolicy ? { update_policy: options.updatePolicy } : {}),
    ...(options.conflictPolicy ? { conflict_policy: options.conflictPolicy } : {}),
    ...(options.filter ? { filters: options.filter } : {}),
    ...(given('components') ? { components: options.components !== false } : {}),
    ...(options.every !== undefined ? { schedule: { interval_seconds: parseDuration(options.every, '--every') } } : {}),
    ...(options.cron !== undefined ? { schedule: { cron: options.cron } } : {}),
    ...(given('schedule') ? { schedule: null } : {}),
  };
}

function poolLine(pool: { name: string; tags: string[]; template: PoolTemplate; members: { name: string }[] }): string {
  const schedule = pool.template.schedule?.cron ? `cron "${pool.template.schedule.cron}"` : pool.template.schedule?.interval_seconds ? `every ${pool.template.schedule.interval_seconds} s` : 'no schedule';
  return `${pool.name}\ttags: ${pool.tags.join(',')}\tresources: ${pool.template.resources.join(',') || '-'} (${pool.template.mode})\t${schedule}\tmembers: ${pool.members.map((m) => m.name).join(',') || '-'}\n`;
}

export function registerPoolCommand(program: Command): void {
  const pool = program.command('pool').description('sync pools, the beacon and gateways discovered on the LAN');

  const interest = pool.command('interest').description("this gateway's interest tags (advertised on the LAN)");
  storeOptions(interest.command('add').description('advertise an interest tag on the LAN; gateways sharing it become pool candidates').argument('<tag>', 'e.g. haiti').option('--direction <direction>', 'download, upload or both', 'both').option('--json', 'print JSON')).action(
    async (tag: string, options: StoreOptions & { direction: 'download' | 'upload' | 'both'; json?: boolean }) => {
      const interests = await withPools(options, (_pools, beacon) => beacon.register(tag, options.direction));
      print(interests, options.json, () => interests.map((i) => `${i.tag}\t${i.direction}\n`).join(''));
    },
  );
  storeOptions(interest.command('remove').description('stop advertising an interest tag').argument('<tag>', 'the tag')).action(async (tag: string, options: StoreOptions) => {
    await withPools(options, (_pools, beacon) => beacon.unregister(tag));
    process.stdout.write(`No longer interested in ${tag}\n`);
  });
  storeOptions(pool.command('interests').description("list this gateway's interest tags").option('--json', 'print JSON')).action(async (options: StoreOptions & { json?: boolean }) => {
    const interests = await withPools(options, (_pools, beacon) => beacon.interests());
    print(interests, options.json, () => interests.map((i) => `${i.tag}\t${i.direction}\n`).join(''));
  });

  storeOptions(pool.command('discovered').description('gateways this gateway heard on the LAN').option('--json', 'print JSON')).action(async (options: StoreOptions & { json?: boolean }) => {
    const gateways = await withPools(options, (_pools, beacon) => beacon.discovered());
    print(gateways, options.json, () =>
      gateways.map((g) => `${g.name}\t${g.uuid}\t${g.url}\ttags: ${g.interests.map((i) => `${i.tag}(${i.direction})`).join(',') || '-'}\tlast seen ${g.last_seen_at}\n`).join(''),
    );
  });

  templateOptions(pool.command('create').description('create a pool').argument('<name>')).action(async (name: string, options: TemplateOptions, command: Command) => {
    const created = await withPools(options, (pools) =>
      pools.create({
        name,
        tags: options.tag ?? [],
        template: templateFrom(options, command),
        ...(options.user === undefined ? {} : { username: options.user }),
        ...(options.password === undefined ? {} : { password: options.password }),
      }),
    );
    print(created, options.json, () => poolLine(created));
  });

  templateOptions(pool.command('update').description("change a pool; its members' tasks follow").argument('<name>')).action(async (name: string, options: TemplateOptions, command: Command) => {
    const template = templateFrom(options, command);
    const updated = await withPools(options, (pools) =>
      pools.update(name, {
        ...(options.tag ? { tags: options.tag } : {}),
        ...(Object.keys(template).length ? { template } : {}),
        ...(options.user === undefined ? {} : { username: options.user }),
        ...(options.password === undefined ? {} : { password: options.password }),
      }),
    );
    print(updated, options.json, () => poolLine(updated));
  });

  storeOptions(pool.command('list').description('list pools').option('--json', 'print JSON')).action(async (options: StoreOptions & { json?: boolean }) => {
    const pools = await withPools(options, (registry) => registry.list());
    print(pools, options.json, () => pools.map(poolLine).join(''));
  });

  storeOptions(pool.command('show').description("a pool's tags, template and members").argument('<name>', 'pool').option('--json', 'print JSON')).action(async (name: string, options: StoreOptions & { json?: boolean }) => {
    const found = await withPools(options, (pools) => pools.get(name));
    print(found, options.json, () => poolLine(found));
  });

  storeOptions(pool.command('remove').description('delete a pool (members keep their tasks)').argument('<name>')).action(async (name: string, options: StoreOptions) => {
    await withPools(options, (pools) => pools.remove(name));
    process.stdout.write(`Removed pool ${name}\n`);
  });

  storeOptions(pool.command('candidates').description('gateways sharing a tag with the pool, to accept or reject').argument('<name>').option('--all', 'include rejected ones').option('--json', 'print JSON')).action(
    async (name: string, options: StoreOptions & { all?: boolean; json?: boolean }) => {
      const candidates = await withPools(options, (pools) => pools.candidates(name, { includeRejected: options.all === true }));
      print(candidates, options.json, () =>
        candidates.length === 0
          ? `No candidates for pool ${name}${options.all ? '' : ' (pool candidates --all includes rejected ones)'}: no gateway heard on the LAN shares its tags yet (sluice discover lists those heard)\n`
          : candidates.map((c) => `${c.name}\t${c.uuid}\t${c.url}\ttags: ${c.shared_tags.join(',')}\ttables: ${c.tables.join(',') || '-'}\t${c.status}\n`).join(''),
      );
    },
  );

  storeOptions(
    pool
      .command('accept')
      .description('register a candidate (fingerprint first) and give it the pool\'s tasks')
      .argument('<name>', 'pool')
      .argument('<uuid>', 'the candidate\'s uuid, as discovered')
      .option('--name <repository>', 'repository name (default: the name it advertised)')
      .option('--user <user>', 'username at the candidate (default: the pool\'s)')
      .option('--password <password>', 'password at the candidate')
      .option('--json', 'print JSON'),
  ).action(async (name: string, uuid: string, options: StoreOptions & { name?: string; user?: string; password?: string; json?: boolean }) => {
    const repository = await withPools(options, (pools) =>
      pools.accept(name, uuid, {
        ...(options.name === undefined ? {} : { name: options.name }),
        ...(options.user === undefined ? {} : { username: options.user }),
        ...(options.password === undefined ? {} : { password: options.password }),
      }),
    );
    print(repository, options.json, () => `Accepted ${repository.name} (${repository.uuid}) into pool ${name}\n`);
  });

  storeOptions(pool.command('reject').description('turn a candidate down: it is no longer proposed (pool candidates --all still lists it)').argument('<name>', 'pool').argument('<uuid>', "the candidate's uuid")).action(async (name: string, uuid: string, options: StoreOptions) => {
    await withPools(options, (pools) => pools.reject(name, uuid));
    process.stdout.write(`Rejected ${uuid} for pool ${name}\n`);
  });

  storeOptions(pool.command('join').description('add an existing repository to a pool').argument('<name>', 'pool').argument('<repository>', 'name or uuid')).action(
    async (name: string, repository: string, options: StoreOptions) => {
      await withPools(options, (pools) => pools.join(name, repository));
      process.stdout.write(`${repository} joined pool ${name}\n`);
    },
  );

  storeOptions(pool.command('leave').description('take a repository out of a pool (it keeps its tasks)').argument('<name>', 'pool').argument('<repository>', 'name or uuid')).action(
    async (name: string, repository: string, options: StoreOptions) => {
      await withPools(options, (pools) => pools.leave(name, repository));
      process.stdout.write(`${repository} left pool ${name}\n`);
    },
  );
}
