/**
 * Replay jobs (POST /control/replay) and what each replayed row gave, in storage of their
 * own: a replay never writes to `predictions`, so it cannot move /compare, drift or a
 * rollout's figures. Log retention deletes finished jobs past its horizon (with their
 * results), whether or not the rows they read are still in the log.
 */
export type ReplayStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export const TERMINAL_REPLAY_STATUSES: readonly ReplayStatus[] = ['done', 'failed', 'cancelled'];
/** Jobs a process holds: waiting for their turn or being replayed. */
export const LIVE_REPLAY_STATUSES: ReplayStatus[] = ['queued', 'running'];
/** How a job its runner still holds can end under it: a cancel, or abandoned (failed). */
export const REPLAY_ENDED_FROM_OUTSIDE: ReplayStatus[] = ['cancelled', 'failed'];

export interface ReplayRecord {
  id: string;
  model: string;
  candidate: string;
  /** The window of served rows replayed: ms since epoch, since inclusive, until exclusive. */
  since: number;
  until: number;
  /** At most this many rows (null: the whole window). */
  limitRows: number | null;
  /** The rate bound it runs under (MODELGATE_REPLAY_MAX_ROWS_PER_S where it was accepted). */
  maxRowsPerS: number;
  status: ReplayStatus;
  /** Served rows read so far (replayed, failed or skipped). */
  rowsDone: number;
  /** Served rows in the window (capped by the limit), once counted. */
  total: number | null;
  /** The report (src/replay/report.ts ReplayReport), when done, or cancelled part-way. */
  report: unknown;
  error: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /**
   * Refreshed every second by the process running (or holding queued) the job: a job whose
   * heartbeat stops is declared failed ("abandoned") instead of showing `running` forever.
   */
  heartbeatAt: number;
}

/** One served row as the candidate answered it. */
export interface ReplayResultRecord {
  replayId: string;
  predictionId: string;
  /** The served row's ts. */
  ts: number;
  servedVersion: string;
  servedLabel: string | null;
  /** A regressor's served value (the log's `score`). */
  servedValue: number | null;
  candidateLabel: string | null;
  candidateValue: number | null;
  /** The candidate's time for the row: its batch's time divided by the batch's rows. */
  latencyUs: number | null;
  /** `skipped`: the served row was an error; `failed`: the candidate could not answer it. */
  status: 'ok' | 'failed' | 'skipped';
  error: string | null;
}

/**
 * A result row's values in the column order both storages insert them (replay_id,
 * prediction_id, ts, served_version, served_label, served_value, candidate_label,
 * candidate_value, latency_us, status, error): their statements are written by hand for
 * speed, so the order lives here once.
 */
export const replayResultValues = (r: ReplayResultRecord) => [
  r.replayId,
  r.predictionId,
  r.ts,
  r.servedVersion,
  r.servedLabel,
  r.servedValue,
  r.candidateLabel,
  r.candidateValue,
  r.latencyUs,
  r.status,
  r.error,
];

/** Columns per result row, for building a multi-row INSERT's placeholders. */
export const REPLAY_RESULT_COLUMNS = 11;

export interface ReplayProgress {
  rowsDone: number;
  total: number | null;
  at: number;
}

export interface ReplayOutcome {
  status: 'done' | 'failed';
  rowsDone: number;
  report: unknown;
  error: string | null;
  at: number;
}

export interface ReplayStore {
  create(record: ReplayRecord): Promise<void>;
  get(id: string): Promise<ReplayRecord | undefined>;
  /** The newest first, of one model or of all. */
  list(model: string | null, limit: number): Promise<ReplayRecord[]>;
  /** queued → running; false when it is not queued any more (cancelled meanwhile). */
  start(id: string, at: number): Promise<boolean>;
  /**
   * Progress and heartbeat of a running job; false when it is not running any more
   * (cancelled, or declared abandoned): the runner then stops.
   */
  progress(id: string, progress: ReplayProgress): Promise<boolean>;
  /** Keeps queued and running jobs of this process alive (PostgreSQL: at its own clock). */
  heartbeat(ids: readonly string[], at: number): Promise<void>;
  appendResults(rows: readonly ReplayResultRecord[]): Promise<void>;
  /** running → done/failed; false when it was not running any more. */
  finish(id: string, outcome: ReplayOutcome): Promise<boolean>;
  /**
   * The report of the rows replayed before the job was ended from outside — cancelled, or
   * failed as abandoned while it was still running — once (only on a job with none).
   */
  attachReport(id: string, rowsDone: number, report: unknown): Promise<void>;
  /** queued/running → cancelled; the record as it is after (undefined: no such job). */
  cancel(id: string, at: number): Promise<ReplayRecord | undefined>;
  /**
   * Every queued or running job whose heartbeat is more than `silentForMs` old → failed
   * with `error`, finished at `at`. Returns how many. "Old" by one clock for all replicas:
   * PostgreSQL's (it writes every heartbeat too), so a replica whose clock is ahead does
   * not end another's live jobs; SQLite is one process, whose clock it uses.
   */
  abandon(silentForMs: number, at: number, error: string): Promise<number>;
  /**
   * Log retention: deletes finished jobs (done, failed, cancelled) whose `finishedAt` is
   * before `before`, with their result rows, about `limit` rows at a time (SQLite: result
   * rows and jobs together, oldest job first; PostgreSQL: up to `limit` whole jobs). A
   * queued or running job is never touched. Fewer than `limit` means none is left.
   */
  deleteFinishedBefore(before: number, limit: number): Promise<number>;
  /** A job's result rows in served-row order (tests, and anyone auditing a report). */
  results(id: string): Promise<ReplayResultRecord[]>;
}
