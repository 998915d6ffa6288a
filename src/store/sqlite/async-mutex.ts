/**
 * A first-come-first-served lock for async work. better-sqlite3 runs each statement synchronously,
 * but a Sluice transaction spans awaits; the lock keeps a second transaction from issuing
 * statements on the shared write connection in between.
 */
export class AsyncMutex {
  private tail: Promise<void> = Promise.resolve();

  /** Resolves when the caller holds the lock; call the returned function exactly once to release it. */
  async acquire(): Promise<() => void> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const previous = this.tail;
    this.tail = previous.then(() => released);
    await previous;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      release();
    };
  }

  async run<T>(work: () => Promise<T> | T): Promise<T> {
    const release = await this.acquire();
    try {
      return await work();
    } finally {
      release();
    }
  }
}
