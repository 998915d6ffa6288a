/**
 * Finding the components of a master record. The store can list the components of one master per
 * table (`RecordQuery.parent`) but not across tables, so the tables that hold components at all are
 * found first (a table whose records are all top-level has none) and only those are asked.
 * Shared by the importer (cascading deletes, merges) and the exporter (nesting).
 */
import type { RecordAccess, StoredRecord } from '../store/store.js';

export class ComponentTables {
  private tables: Set<string> | undefined;
  private readonly noted = new Set<string>();

  constructor(private readonly access: RecordAccess) {}

  /** Tables holding at least one component record (deleted ones included). */
  async list(): Promise<ReadonlySet<string>> {
    if (!this.tables) {
      this.tables = new Set(await this.access.componentResources());
    }
    for (const resource of this.noted) this.tables.add(resource);
    return this.tables;
  }

  /** Records a table that just received a component, so later lookups in this run ask it too. */
  noteComponentTable(resource: string): void {
    this.noted.add(resource);
    this.tables?.add(resource);
  }

  /** Components of one master, table by table (table order, then the store's order). */
  async componentsOf(
    parent: { resource: string; uuid: string },
    options: { includeDeleted: boolean; access?: RecordAccess },
  ): Promise<StoredRecord[]> {
    const access = options.access ?? this.access;
    const found: StoredRecord[] = [];
    for (const resource of await this.list()) {
      for (const record of await access.queryRecords({ resource, parent, includeDeleted: options.includeDeleted })) {
        found.push(record);
      }
    }
    return found;
  }
}
