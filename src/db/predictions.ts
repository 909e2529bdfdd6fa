export type PredictionStatus = 'ok' | 'error';

export interface PredictionRecord {
  id: string;
  ts: number;
  model: string;
  version: string;
  route: string;
  userHash: string | null;
  requestId: string;
  input: string;
  output: string | null;
  label: string | null;
  score: number | null;
  latencyUs: number;
  status: PredictionStatus;
  error: string | null;
  shadowOf: string | null;
  /**
   * Answered from the version's prediction cache (MODELGATE_CACHE_ROWS), not computed.
   * Absent in spill files written before the cache existed: read as false.
   */
  cached?: boolean;
}

/**
 * Where predictions go. Appends never block on I/O and never drop a row: a row is
 * either accepted (and then written, or handed back by close) or refused with a 503
 * before the prediction is answered.
 */
export interface PredictionLog {
  /** Queues rows; throws a 503 `unavailable` AppError once `maxQueue` rows wait, or after close. */
  append(records: readonly PredictionRecord[]): void;
  /** Rows accepted but not yet committed. */
  readonly queueDepth: number;
  /** Rows committed (or found already logged, when replayed). */
  readonly rowsWritten: number;
  /**
   * Rows the database would not take as they are (a field it requires is missing: only a
   * damaged or hand-edited spill file has such rows). Each is reported to `onRowsRejected`;
   * the rest of its write goes in, so one such row never holds the queue or start-up.
   */
  readonly rowsRejected: number;
  /**
   * Writes everything queued now; before answering queries that must see it. Rejects
   * with a 503 `unavailable` AppError if a write fails.
   */
  flush(): Promise<void>;
  /**
   * Back-pressure: undefined while the queue is at most `roomRows` deep (always, normally),
   * else a promise that resolves once a commit brings it back under, or a write fails.
   * A prediction awaits it before answering, so a writer that falls behind (rows of large
   * batches arriving faster than it commits) slows the answers instead of filling the
   * queue to `maxQueue` and its 503s. A failing database is not waited for: then rows
   * queue up to `maxQueue` as before.
   */
  room(): Promise<void> | undefined;
  /**
   * Stops accepting and writes every queued row, retrying with backoff until `deadline`
   * (epoch ms; default 30 s from now). Resolves with the rows it could not write by then
   * (none, normally).
   */
  close(deadline?: number): Promise<PredictionRecord[]>;
  /** Writes `rows` at once, skipping ids already logged (spill files at start). */
  replay(rows: readonly PredictionRecord[]): Promise<void>;
}

export interface PredictionLogOptions {
  /** Commit once this many rows wait. */
  flushRows: number;
  /** ...or once the oldest row has waited this long. */
  flushMs: number;
  /** Past this depth appends are refused (503): bounded memory, no prediction unlogged. */
  maxQueue: number;
  /** The first failed write of a burst (not every retry). */
  onError?: (error: unknown, pendingRows: number) => void;
  /** Rows a write (or replay) could not log at all, for the caller to say so out loud. */
  onRowsRejected?: (rows: readonly PredictionRecord[]) => void;
  /** The first successful write after `failedAttempts` failed ones. */
  onRecovered?: (failedAttempts: number) => void;
}
