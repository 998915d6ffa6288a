import { Command, InvalidArgumentError } from 'commander';
import { createFakeUshahidi, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET } from './index.js';

/** `npm run fake:ushahidi -- --posts 10000 --port 8090`: the fake, alone, for demos. */

function integer(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}`);
    return n;
  };
}

const program = new Command()
  .name('fake-ushahidi')
  .description('A local Ushahidi (platform v5 + classic v2) with the real APIs\u2019 quirks, for tests and demos')
  .option('--posts <n>', 'posts to seed', integer(0), 50)
  .option('--port <port>', 'port to listen on (0 picks one)', integer(0), 8090)
  .option('--host <host>', 'interface to listen on', '127.0.0.1')
  .option('--seed <n>', 'PRNG seed for the generated posts', integer(0), 4636)
  .option('--token-lifetime <seconds>', 'access token lifetime', integer(1), 54_000)
  .option('--time-zone <zone>', 'v2 site_timezone (incidentdate is local time there)', 'America/Port-au-Prince')
  .option('--v2-flavour <flavour>', 'classic API generation: 2.x or 1.0 (Haiti-era)', '2.x')
  .option('--private', 'v2 private deployment: every task needs Basic credentials', false)
  .option('--patch-forbidden-403', 'answer a forbidden v5 PATCH with 403 instead of the real 500', false);

program.parse();
const opts = program.opts<{
  posts: number;
  port: number;
  host: string;
  seed: number;
  tokenLifetime: number;
  timeZone: string;
  v2Flavour: string;
  private: boolean;
  patchForbidden403: boolean;
}>();

if (opts.v2Flavour !== '2.x' && opts.v2Flavour !== '1.0') {
  console.error('--v2-flavour must be 2.x or 1.0');
  process.exit(2);
}

const fake = await createFakeUshahidi({
  posts: opts.posts,
  port: opts.port,
  host: opts.host,
  seed: opts.seed,
  tokenLifetimeSeconds: opts.tokenLifetime,
  v5: { forbiddenPatchAs500: !opts.patchForbidden403 },
  v2: { timeZone: opts.timeZone, flavour: opts.v2Flavour, privateDeployment: opts.private },
});

const users = fake.state.users.map((u) => `  ${u.role.padEnd(5)} ${u.email} / ${u.password}`).join('\n');
console.log(`fake Ushahidi listening on ${fake.url} with ${fake.state.postCount} posts
  v5:     ${fake.url}/api/v5/posts        (OAuth: POST ${fake.url}/oauth/token, client ${DEFAULT_CLIENT_ID} / ${DEFAULT_CLIENT_SECRET})
  v2:     ${fake.url}/api?task=incidents  (admin task=reports with HTTP Basic)
users:
${users}`);

let closing = false;
const shutdown = () => {
  if (closing) return;
  closing = true;
  void fake.close().then(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
