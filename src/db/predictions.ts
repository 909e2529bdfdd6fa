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
}

/** Where predictions go. Appends never block on I/O and never drop a row. */
export interface PredictionLog {
  append(records: readonly PredictionRecord[]): void;
  /** Rows accepted but not yet committed. */
  readonly queueDepth: number;
  readonly rowsWritten: number;
  /**
   * Writes everything queued now; before answering queries that must see it.
   * The SQLite log has committed by the time this returns (the promise is only
   * the shape shared with PostgreSQL).
   */
  flush(): Promise<void>;
  /** Drains the queue and stops the timer; appends after close are written at once. */
  close(): Promise<void>;
}

export interface PredictionLogOptions {
  /** Commit once this many rows wait. */
  flushRows: number;
  /** ...or once the oldest row has waited this long. */
  flushMs: number;
  /** Past this depth the request path writes synchronously: back-pressure instead of unbounded memory. */
  maxQueue: number;
  onError?: (error: unknown, pendingRows: number) => void;
}
