/**
 * MongoDB transactions on PostgreSQL: a driver transaction is (lsid, txnNumber) with
 * `autocommit: false`; it gets one pooled PostgreSQL connection pinned from its first command
 * (BEGIN) to commitTransaction (COMMIT) or abortTransaction (ROLLBACK).
 *
 * Like mongod, a transaction that fails a command is aborted at once (PostgreSQL could not go on
 * with it anyway), and one left idle longer than the lifetime limit is rolled back, so a client that
 * died mid-transaction cannot hold row locks for ever.
 */
import type pg from 'pg';

interface OpenTransaction {
  txnNumber: string;
  client: pg.PoolClient;
  lastUsed: number;
  /** Commands in flight; the reaper leaves a busy transaction alone. */
  busy: number;
}

type Outcome = 'committed' | 'aborted';

export class TransactionStateError extends Error {
  constructor(
    readonly codeName: 'NoSuchTransaction' | 'TransactionCommitted',
    message: string,
  ) {
    super(message);
  }
}

export class TransactionRegistry {
  private readonly open = new Map<string, OpenTransaction>();
  /** The last finished transaction per session, so a retried commit is answered correctly. */
  private readonly finished = new Map<string, { txnNumber: string; outcome: Outcome }>();
  private readonly reaper: NodeJS.Timeout;

  constructor(
    private readonly pool: pg.Pool,
    private readonly lifetimeMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.reaper = setInterval(() => void this.reapIdle(), Math.max(100, Math.min(1000, lifetimeMs / 4)));
    this.reaper.unref();
  }

  /**
   * Runs `work` on the transaction's connection, beginning the transaction when `start` is set.
   * A failure inside `work` aborts the transaction before the error is passed on.
   */
  async run<T>(session: string, txnNumber: string, start: boolean, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let transaction = this.open.get(session);
    if (start) {
      if (transaction) await this.finish(session, transaction, 'aborted');
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
      } catch (error) {
        client.release(error as Error);
        throw error;
      }
      transaction = { txnNumber, client, lastUsed: this.now(), busy: 0 };
      this.open.set(session, transaction);
      this.finished.delete(session);
    } else if (!transaction || transaction.txnNumber !== txnNumber) {
      throw this.missing(session, txnNumber);
    }
    transaction.busy += 1;
    try {
      return await work(transaction.client);
    } catch (error) {
      await this.finish(session, transaction, 'aborted', error);
      throw error;
    } finally {
      transaction.busy -= 1;
      transaction.lastUsed = this.now();
    }
  }

  async commit(session: string, txnNumber: string): Promise<void> {
    const transaction = this.open.get(session);
    if (!transaction || transaction.txnNumber !== txnNumber) {
      const last = this.finished.get(session);
      // A retried commit of a committed transaction succeeds again (the driver retries on network errors).
      if (last?.txnNumber === txnNumber && last.outcome === 'committed') return;
      throw this.missing(session, txnNumber);
    }
    try {
      await transaction.client.query('COMMIT');
      this.finishQuietly(session, transaction, 'committed');
    } catch (error) {
      await this.finish(session, transaction, 'aborted', error);
      throw error;
    }
  }

  async abort(session: string, txnNumber: string): Promise<void> {
    const transaction = this.open.get(session);
    if (!transaction || transaction.txnNumber !== txnNumber) throw this.missing(session, txnNumber);
    await this.finish(session, transaction, 'aborted');
  }

  /** endSessions: whatever the sessions still hold open is rolled back. */
  async endSessions(sessions: string[]): Promise<void> {
    for (const session of sessions) {
      const transaction = this.open.get(session);
      if (transaction) await this.finish(session, transaction, 'aborted');
      this.finished.delete(session);
    }
  }

  isOpen(session: string, txnNumber: string): boolean {
    return this.open.get(session)?.txnNumber === txnNumber;
  }

  async close(): Promise<void> {
    clearInterval(this.reaper);
    await this.endSessions([...this.open.keys()]);
  }

  private missing(session: string, txnNumber: string): TransactionStateError {
    const last = this.finished.get(session);
    if (last?.txnNumber === txnNumber && last.outcome === 'committed') {
      return new TransactionStateError('TransactionCommitted', `Transaction ${txnNumber} has been committed.`);
    }
    return new TransactionStateError('NoSuchTransaction', `Transaction ${txnNumber} has been aborted or was never started.`);
  }

  private finishQuietly(session: string, transaction: OpenTransaction, outcome: Outcome): void {
    if (this.open.get(session) === transaction) this.open.delete(session);
    this.finished.set(session, { txnNumber: transaction.txnNumber, outcome });
    transaction.client.release();
  }

  private async finish(session: string, transaction: OpenTransaction, outcome: Outcome, cause?: unknown): Promise<void> {
    if (this.open.get(session) !== transaction) return;
    this.open.delete(session);
    this.finished.set(session, { txnNumber: transaction.txnNumber, outcome });
    try {
      await transaction.client.query('ROLLBACK');
      transaction.client.release();
    } catch (error) {
      // A connection that cannot even roll back is discarded rather than returned to the pool.
      transaction.client.release((error ?? cause) as Error);
    }
  }

  private async reapIdle(): Promise<void> {
    const deadline = this.now() - this.lifetimeMs;
    for (const [session, transaction] of [...this.open]) {
      if (transaction.busy === 0 && transaction.lastUsed < deadline) await this.finish(session, transaction, 'aborted');
    }
  }
}
