/**
 * A real gateway on 127.0.0.1 for console tests: its own data folder and its own mappings folder
 * (so the repository's mappings/ is never written), with one user per role.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { hashPassword } from '../../../src/auth/passwords.js';
import type { Role } from '../../../src/auth/users.js';
import type { Store } from '../../../src/store/store.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';

export interface Account {
  user: string;
  password: string;
}

export const ACCOUNTS: Record<Exclude<Role, 'admin'>, Account> = {
  integrator: { user: 'ines@example.org', password: 'integrator password 1' },
  analyst: { user: 'ana@example.org', password: 'analyst password 1' },
  viewer: { user: 'victor@example.org', password: 'viewer password 1' },
};

export interface ConsoleGateway extends TestGateway {
  mappingsDir: string;
}

export async function addUser(store: Store, account: Account, roles: Role[]): Promise<void> {
  await store.putUser({ username: account.user, passwordHash: await hashPassword(account.password), roles, created_at: '2024-01-01T00:00:00' });
}

export async function startConsoleGateway(options: { demo?: boolean; name?: string; users?: boolean } = {}): Promise<ConsoleGateway> {
  const mappingsDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-mappings-'));
  const gateway = await startTestGateway({
    demo: options.demo ?? false,
    ...(options.name ? { name: options.name } : {}),
    env: { SLUICE_MAPPINGS: mappingsDir },
  });
  if (options.users ?? true) {
    for (const role of ['integrator', 'analyst', 'viewer'] as const) await addUser(gateway.store, ACCOUNTS[role], [role]);
  }
  return {
    ...gateway,
    mappingsDir,
    async stop() {
      await gateway.stop();
      await rm(mappingsDir, { recursive: true, force: true });
    },
  };
}
