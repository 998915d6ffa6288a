import { loadConfig, type ConfigArguments, type SluiceConfig } from '../config.js';
import { openStore } from '../start.js';
import type { Store } from '../store/store.js';

/** Options every data command accepts. */
export interface DataOptions {
  data?: string;
  store?: string;
}

export function configFrom(options: ConfigArguments): SluiceConfig {
  return loadConfig(options, process.env);
}

/** Opens the configured store for one command and always closes it. */
export async function withStore<T>(options: DataOptions, work: (store: Store, config: SluiceConfig) => Promise<T>): Promise<T> {
  const config = configFrom(options);
  const store = await openStore(config);
  try {
    return await work(store, config);
  } finally {
    await store.close();
  }
}
