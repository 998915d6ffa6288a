/**
 * Discovered gateways and sync pools on MongoDB: one document each, keyed by the gateway uuid or the
 * pool name. Every write is one single-document operation, so none needs a transaction.
 */
import type { DiscoveredGatewayRecord, PoolRecord } from '../store.js';
import type { StoreCollections } from './collections.js';
import { fromStorable, toStorable } from './plain-documents.js';

export interface DiscoveredGatewayDocument {
  _id: string;
  name: string;
  record: unknown;
}

export interface PoolDocument {
  _id: string;
  record: unknown;
}

export class DiscoveryState {
  constructor(private readonly collections: StoreCollections) {}

  async getDiscoveredGateway(uuid: string): Promise<DiscoveredGatewayRecord | undefined> {
    const document = await this.collections.discoveredGateways.findOne({ _id: uuid });
    return document ? fromStorable<DiscoveredGatewayRecord>(document.record) : undefined;
  }
  async listDiscoveredGateways(): Promise<DiscoveredGatewayRecord[]> {
    const documents = await this.collections.discoveredGateways.find({}, { sort: { name: 1, _id: 1 } }).toArray();
    return documents.map((document) => fromStorable<DiscoveredGatewayRecord>(document.record));
  }
  async putDiscoveredGateway(gateway: DiscoveredGatewayRecord): Promise<void> {
    await this.collections.discoveredGateways.replaceOne({ _id: gateway.uuid }, { name: gateway.name, record: toStorable(gateway) }, { upsert: true });
  }
  async deleteDiscoveredGateway(uuid: string): Promise<void> {
    await this.collections.discoveredGateways.deleteOne({ _id: uuid });
  }

  async getPool(name: string): Promise<PoolRecord | undefined> {
    const document = await this.collections.pools.findOne({ _id: name });
    return document ? fromStorable<PoolRecord>(document.record) : undefined;
  }
  async listPools(): Promise<PoolRecord[]> {
    const documents = await this.collections.pools.find({}, { sort: { _id: 1 } }).toArray();
    return documents.map((document) => fromStorable<PoolRecord>(document.record));
  }
  async putPool(pool: PoolRecord): Promise<void> {
    await this.collections.pools.replaceOne({ _id: pool.name }, { record: toStorable(pool) }, { upsert: true });
  }
  async deletePool(name: string): Promise<void> {
    await this.collections.pools.deleteOne({ _id: name });
  }
}
