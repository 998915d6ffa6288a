/**
 * Connecting to the MongoDB database behind a store: URL checks, the replica-set check
 * (transactions need one), and the schema preparation of collections.ts.
 */
import { MongoClient } from 'mongodb';
import { SluiceError } from '../../errors.js';
import { prepareDatabase, storeCollections } from './collections.js';
import type { StoreCollections } from './collections.js';
import { redactUrl } from './store-errors.js';

export interface MongoStoreOptions {
  /** A mongodb:// or mongodb+srv:// connection string; it must reach a replica set or mongos. */
  url: string;
  /** Defaults to the database named in the URL, else `sluice`. */
  database?: string;
}

export const DEFAULT_DATABASE = 'sluice';
const DEFAULT_SERVER_SELECTION_TIMEOUT_MS = 10_000;

export function isMongoUrl(locator: string): boolean {
  return /^mongodb(\+srv)?:\/\//.test(locator);
}

/** The database named in a connection string's path, if any. */
export function databaseFromUrl(url: string): string | undefined {
  const afterScheme = url.replace(/^mongodb(\+srv)?:\/\//, '');
  const slash = afterScheme.indexOf('/');
  if (slash < 0) return undefined;
  const name = decodeURIComponent(afterScheme.slice(slash + 1).split('?')[0] ?? '');
  return name === '' ? undefined : name;
}

function openFailure(url: string, message: string, fix: string, cause?: unknown): SluiceError {
  return new SluiceError('STORE_OPEN_FAILED', `Cannot open the MongoDB store at ${redactUrl(url)}: ${message}`, { status: 500, fix, cause });
}

export interface ConnectedDatabase {
  client: MongoClient;
  collections: StoreCollections;
  database: string;
}

/**
 * Fails with STORE_OPEN_FAILED (unreachable, standalone server, bad URL) or STORE_SCHEMA_TOO_NEW.
 * `prepare: false` leaves index creation to the caller (a bulk load builds them afterwards).
 */
export async function connectDatabase(options: MongoStoreOptions, { prepare = true }: { prepare?: boolean } = {}): Promise<ConnectedDatabase> {
  const { url } = options;
  if (!isMongoUrl(url)) {
    throw openFailure(url, 'the URL does not start with mongodb:// or mongodb+srv://', 'Write the store as mongodb://host:27017/sluice?replicaSet=rs0');
  }
  let client: MongoClient;
  try {
    client = new MongoClient(url, {
      ignoreUndefined: true,
      ...(/[?&]serverSelectionTimeoutMS=/i.test(url) ? {} : { serverSelectionTimeoutMS: DEFAULT_SERVER_SELECTION_TIMEOUT_MS }),
    });
  } catch (error) {
    throw openFailure(url, error instanceof Error ? error.message : String(error), 'Check the connection string syntax', error);
  }
  try {
    await client.connect();
    const hello = await client.db('admin').command({ hello: 1 });
    if (typeof hello.setName !== 'string' && hello.msg !== 'isdbgrid') {
      throw openFailure(
        url,
        'the server is a standalone mongod, which cannot run transactions',
        'Run MongoDB as a replica set (a single-node replica set is enough: start mongod with --replSet rs0 and run rs.initiate()), or connect through mongos',
      );
    }
    const database = options.database ?? databaseFromUrl(url) ?? DEFAULT_DATABASE;
    const collections = storeCollections(client.db(database));
    if (prepare) await prepareDatabase(collections);
    return { client, collections, database };
  } catch (error) {
    await client.close().catch(() => undefined);
    if (error instanceof SluiceError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw openFailure(url, message, 'Check that MongoDB is running and reachable at that address, and that the user may read and write the database', error);
  }
}
