/**
 * Discovered gateways and sync pools in SQLite (migration 4). The discovery and pools modules own
 * the free-form parts, so each row keeps its key columns plus one JSON body.
 */
import type Database from 'better-sqlite3';
import type { DiscoveredGatewayRecord, PoolRecord } from '../store.js';

export const DISCOVERY_STATE_MIGRATION_SQL = `
  CREATE TABLE discovered_gateways (
    uuid TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    body TEXT NOT NULL
  );
  CREATE TABLE pools (
    name TEXT PRIMARY KEY,
    body TEXT NOT NULL
  );
`;

export class DiscoveryStateTables {
  private readonly statements;

  constructor(writer: Database.Database, reader: Database.Database) {
    this.statements = {
      gatewayByUuid: reader.prepare<[string], { body: string }>('SELECT body FROM discovered_gateways WHERE uuid = ?'),
      allGateways: reader.prepare<[], { body: string }>('SELECT body FROM discovered_gateways ORDER BY name, uuid'),
      upsertGateway: writer.prepare<[string, string, string]>(
        'INSERT INTO discovered_gateways (uuid, name, body) VALUES (?, ?, ?) ON CONFLICT (uuid) DO UPDATE SET name = excluded.name, body = excluded.body',
      ),
      deleteGateway: writer.prepare<[string]>('DELETE FROM discovered_gateways WHERE uuid = ?'),
      poolByName: reader.prepare<[string], { body: string }>('SELECT body FROM pools WHERE name = ?'),
      allPools: reader.prepare<[], { body: string }>('SELECT body FROM pools ORDER BY name'),
      upsertPool: writer.prepare<[string, string]>('INSERT INTO pools (name, body) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET body = excluded.body'),
      deletePool: writer.prepare<[string]>('DELETE FROM pools WHERE name = ?'),
    };
  }

  getDiscoveredGateway(uuid: string): DiscoveredGatewayRecord | undefined {
    const row = this.statements.gatewayByUuid.get(uuid);
    return row ? (JSON.parse(row.body) as DiscoveredGatewayRecord) : undefined;
  }
  listDiscoveredGateways(): DiscoveredGatewayRecord[] {
    return this.statements.allGateways.all().map((row) => JSON.parse(row.body) as DiscoveredGatewayRecord);
  }
  putDiscoveredGateway(gateway: DiscoveredGatewayRecord): void {
    this.statements.upsertGateway.run(gateway.uuid, gateway.name, JSON.stringify(gateway));
  }
  deleteDiscoveredGateway(uuid: string): void {
    this.statements.deleteGateway.run(uuid);
  }

  getPool(name: string): PoolRecord | undefined {
    const row = this.statements.poolByName.get(name);
    return row ? (JSON.parse(row.body) as PoolRecord) : undefined;
  }
  listPools(): PoolRecord[] {
    return this.statements.allPools.all().map((row) => JSON.parse(row.body) as PoolRecord);
  }
  putPool(pool: PoolRecord): void {
    this.statements.upsertPool.run(pool.name, JSON.stringify(pool));
  }
  deletePool(name: string): void {
    this.statements.deletePool.run(name);
  }
}
