/**
 * Leases in the store keep two gateway processes from running one job at once (Eden's global
 * `sync_status.running` flag stays set forever after a crash; a lease simply expires). The holder
 * renews it while working; if renewal fails the work is told to stop (its AbortSignal fires) before
 * it commits another page. A lease of a process that is known to be dead (same host, its pid gone)
 * is taken over at once instead of waiting for it to expire.
 */
import { SluiceError } from '../errors.js';
import type { Clock } from '../s3xml/timestamps.js';
import type { LeaseRecord, Store } from '../store/store.js';

export interface LeaseOptions {
  store: Store;
  clock: Clock;
  /** Who we are: `host:pid:random` (see holderId). */
  holder: string;
  ttlMs: number;
  /** False when the holder is certainly dead (a process on this host that no longer exists). */
  isHolderAlive?: (holder: string) => boolean;
}

export interface HeldLease {
  readonly name: string;
  /** Fires when the lease was lost (renewal refused or impossible before expiry). */
  readonly signal: AbortSignal;
  /** The holder we took the lease over from, when it had expired or died. */
  readonly tookOverFrom?: string;
  release(): Promise<void>;
}

export function holderId(host: string, pid: number, random: string): string {
  return `${host}:${pid}:${random}`;
}

export function parseHolder(holder: string): { host: string; pid: number } | undefined {
  const match = /^(.*):(\d+):[^:]*$/.exec(holder);
  return match ? { host: match[1]!, pid: Number(match[2]) } : undefined;
}

export function leaseHeldError(name: string, lease: LeaseRecord | undefined, now: number): SluiceError {
  const seconds = lease ? Math.max(0, Math.ceil((lease.expires_at - now) / 1000)) : 0;
  return new SluiceError('SYNC_ALREADY_RUNNING', `${name} is already running in ${lease?.holder ?? 'another process'}`, {
    status: 409,
    fix: `Wait for that run to finish (its lease expires in ${seconds} s if that process died)`,
    details: lease ? { holder: lease.holder, expires_at: new Date(lease.expires_at).toISOString() } : {},
  });
}

/** Takes the lease or returns who holds it. */
export async function acquireLease(options: LeaseOptions, name: string): Promise<{ lease: HeldLease } | { heldBy: LeaseRecord | undefined }> {
  const { store, clock, holder, ttlMs } = options;
  const previous = await store.getLease(name);
  let acquired = await store.acquireLease(name, holder, clock.now().getTime(), ttlMs);
  if (!acquired) {
    const current = await store.getLease(name);
    if (current && current.holder !== holder && options.isHolderAlive?.(current.holder) === false) {
      // Released only if that dead holder still has it, so a live newcomer is never robbed.
      await store.releaseLease(name, current.holder);
      acquired = await store.acquireLease(name, holder, clock.now().getTime(), ttlMs);
    }
    if (!acquired) return { heldBy: current };
  }
  const controller = new AbortController();
  let expiresAt = acquired.expires_at;
  let released = false;
  const lost = (why: string) => {
    if (!controller.signal.aborted) {
      controller.abort(new SluiceError('LEASE_LOST', `lost the lease ${name}: ${why}`, { status: 503, fix: 'Another process took the job over; this run stopped before its next page' }));
    }
  };
  const renew = async () => {
    if (released) return;
    try {
      const now = clock.now().getTime();
      if (!(await store.renewLease(name, holder, now, ttlMs))) lost('another process holds it now');
      else expiresAt = now + ttlMs;
    } catch (error) {
      if (clock.now().getTime() >= expiresAt) lost(`it expired while the store could not be reached (${(error as Error).message})`);
    }
  };
  const timer = setInterval(() => void renew(), Math.max(50, Math.floor(ttlMs / 3)));
  timer.unref();
  const tookOverFrom = previous && previous.holder !== holder ? previous.holder : undefined;
  return {
    lease: {
      name,
      signal: controller.signal,
      ...(tookOverFrom === undefined ? {} : { tookOverFrom }),
      async release() {
        if (released) return;
        released = true;
        clearInterval(timer);
        await store.releaseLease(name, holder);
      },
    },
  };
}

const TICK_CLAIM_PREFIX = 'schedule:';

export function tickLeaseName(job: string): string {
  return `${TICK_CLAIM_PREFIX}${job}`;
}

/** What was just deleted: jobs (their tick claims) and a repository or source (its run lease). */
export interface DeletedLeaseOwners {
  jobs?: readonly string[];
  /** The run lease name of the deleted repository or source (runner.ts syncLeaseName). */
  runLease?: string;
}

/**
 * Removes the lease records of deleted jobs and repositories; nothing else ever would, so a gateway
 * that adds and removes jobs for months would keep every one of them, and a job re-created under
 * the same id would meet the old claim.
 *
 * - A deleted job's tick claim goes whatever its window: a claim guards no work in progress (the
 *   run holds the repository's lease, not the claim) and the job has no ticks left to share.
 * - A run lease goes only when nobody holds it. A run still at work keeps it, so it is neither
 *   aborted nor joined by a second run of a repository re-added meanwhile; its release removes the
 *   record when the run ends.
 * - Every expired tick claim goes too: an expired claim decides nothing (the next claimant simply
 *   overwrites it), and this sweeps what earlier deletions could not reach, such as the claim a
 *   process that had not yet noticed a deletion made for the deleted job's last tick.
 *
 * Returns how many records were removed.
 */
export async function deleteLeasesOf(options: { store: Pick<Store, 'deleteLeases'>; now: number }, deleted: DeletedLeaseOwners): Promise<number> {
  const { store, now } = options;
  let removed = 0;
  for (const job of deleted.jobs ?? []) removed += await store.deleteLeases({ name: tickLeaseName(job) });
  if (deleted.runLease !== undefined) removed += await store.deleteLeases({ name: deleted.runLease }, now);
  removed += await store.deleteLeases({ prefix: TICK_CLAIM_PREFIX }, now);
  return removed;
}

/**
 * Claims one tick of a scheduled job for `holder`, so that of all the processes sharing the store
 * exactly one runs it. The claim is a lease held until `windowEnd` and never released: a process
 * that fires the same tick later (a slower node) finds it held and stands back, and the next tick's
 * claims begin only after it has expired. A process that fires after `windowEnd` does not claim at
 * all (the tick's window is over; it would otherwise run the tick a second time).
 */
export async function claimTick(
  options: { store: Pick<Store, 'acquireLease'>; holder: string; now: number },
  job: string,
  tick: number,
  windowEnd: number,
): Promise<boolean> {
  const { store, holder, now } = options;
  if (now >= windowEnd) return false;
  // The tick is part of the holder: "already held by this holder" must not cover the next tick.
  const claim = await store.acquireLease(tickLeaseName(job), `${holder}@${new Date(tick).toISOString()}`, now, windowEnd - now);
  return claim !== undefined;
}
