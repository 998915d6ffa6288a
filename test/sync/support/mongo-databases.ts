/** Test databases on the shared MongoDB-compatible server: one per test file, dropped after. */
import { MongoClient } from 'mongodb';

/** The connection string with `database` as its path (hosts and options kept; works for host lists too). */
export function mongoUrlWithDatabase(url: string, database: string): string {
  const match = /^(mongodb(?:\+srv)?:\/\/[^/?]+)(?:\/[^?]*)?(\?.*)?$/.exec(url);
  if (!match) throw new Error(`not a mongodb:// URL: ${url}`);
  return `${match[1]}/${database}${match[2] ?? ''}`;
}

export async function dropDatabase(url: string, database: string): Promise<void> {
  const client = new MongoClient(url);
  try {
    await client.db(database).dropDatabase();
  } finally {
    await client.close();
  }
}
