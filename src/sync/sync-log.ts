/**
 * The sync log with Eden's fields (reference §3.1 sync_log): time, repository, resource, mode
 * (`pull|push|register|…` + `/incoming|outgoing|none`), action, result (success, warning, error =
 * may work later, fatal = needs reconfiguration), remote (the peer's fault) and a message. Every
 * line of one run carries its run id, so the log and the run history point at each other.
 */
import { formatTimestamp, type Clock } from '../s3xml/timestamps.js';
import type { LogEntry, LogResult, Store } from '../store/store.js';

export interface LogLine {
  mode: string;
  action: string;
  result: LogResult;
  message: string;
  resource?: string;
  remote?: boolean;
}

export class SyncLogWriter {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly context: { repository?: string; run_id?: string },
  ) {}

  write(line: LogLine): Promise<LogEntry> {
    return this.store.appendLog({
      timestmp: formatTimestamp(this.clock.now()),
      ...(this.context.repository === undefined ? {} : { repository: this.context.repository }),
      ...(line.resource === undefined ? {} : { resource: line.resource }),
      mode: line.mode,
      action: line.action,
      result: line.result,
      remote: line.remote ?? false,
      message: line.message,
      ...(this.context.run_id === undefined ? {} : { run_id: this.context.run_id }),
    });
  }
}

const RESULT_RANK: Record<LogResult, number> = { success: 0, warning: 1, error: 2, fatal: 3 };

/** The worse of two results. */
export function worse(a: LogResult, b: LogResult): LogResult {
  return RESULT_RANK[a] >= RESULT_RANK[b] ? a : b;
}
