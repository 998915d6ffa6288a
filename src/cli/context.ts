import { loadConfig, type ConfigArguments, type SluiceConfig } from '../config.js';
import { BASE_URL_SETTING, DOMAIN_SETTING, openStore } from '../start.js';
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

/**
 * The domain and base URL records are stamped with: the environment's when it names them, else
 * those the gateway last started with on this store (its --port may differ from the default), else
 * the defaults.
 */
export async function publicAddress(store: Pick<Store, 'getSetting'>, config: Pick<SluiceConfig, 'domain' | 'baseUrl'>): Promise<{ domain: string; baseUrl: string }> {
  const baseUrl = process.env.SLUICE_BASE_URL ? config.baseUrl : ((await store.getSetting(BASE_URL_SETTING)) ?? config.baseUrl);
  const domain = process.env.SLUICE_DOMAIN || process.env.SLUICE_BASE_URL ? config.domain : ((await store.getSetting(DOMAIN_SETTING)) ?? config.domain);
  return { domain, baseUrl };
}
