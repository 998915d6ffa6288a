import { randomUUID } from 'node:crypto';
import type { Store } from './store/store.js';

export interface GatewayIdentity {
  /** Created at first start and never changed: peers know this gateway by it. */
  uuid: string;
  name: string;
}

const UUID_KEY = 'gateway.uuid';
const NAME_KEY = 'gateway.name';

export async function ensureIdentity(store: Store, name: string): Promise<GatewayIdentity> {
  let uuid = await store.getSetting(UUID_KEY);
  if (!uuid) {
    uuid = `urn:uuid:${randomUUID()}`;
    await store.setSetting(UUID_KEY, uuid);
  }
  const storedName = await store.getSetting(NAME_KEY);
  if (storedName !== name) await store.setSetting(NAME_KEY, name);
  return { uuid, name };
}
