import type { AppError } from '../errors.js';
import type { DeploymentStore } from './deployments.js';
import type { FeedbackStore } from './feedback.js';
import type { LogArchive } from './log-archive.js';
import type { PredictionLog, PredictionRecord } from './predictions.js';
import type { ReplayStore } from './replays.js';
import type { RolloutStore } from './rollouts.js';
import type { SecretStore } from './secrets.js';
import type { StatsQueries } from './stats-queries.js';

export interface StorageHealth {
  /**
   * False while a write to storage fails (database unreachable, disk full, file locked):
   * predictions still flow into the log's queue, control changes answer 503.
   */
  ok: boolean;
  /** Why not, in words, for /v2/health/ready. */
  detail?: string;
  /** Log rows accepted but not yet committed. */
  pendingRows: number;
  /**
   * False once the log has refused a prediction for want of room (writes have failed
   * too long), until a write succeeds again: the replica is then not ready.
   */
  accepting: boolean;
}

/**
 * Everything modelgate keeps. One interface, two implementations (SQLite for one
 * machine, PostgreSQL for replicas), chosen once in compose.ts: the gateway,
 * control and compare code never know which.
 */
export interface Storage {
  readonly kind: 'sqlite' | 'postgres';
  deployments: DeploymentStore;
  predictionLog: PredictionLog;
  feedback: FeedbackStore;
  rollouts: RolloutStore;
  /** Replay jobs and their per-row results (never the prediction log). */
  replays: ReplayStore;
  queries: StatsQueries;
  secrets: SecretStore;
  /** Reading the log out in pages (export) and deleting its oldest rows (retention). */
  archive: LogArchive;
  health(): StorageHealth;
  /**
   * The 503 for an error that is the storage's state, not the request's fault (a locked
   * or full SQLite file), so the one error handler can answer it without knowing which
   * storage runs; undefined for any other error.
   */
  unavailable(error: unknown): AppError | undefined;
  /**
   * Whether this process runs the jobs that must run once for all replicas (the
   * progressive rollout timers). Always true for SQLite; with PostgreSQL, the one
   * replica holding the leader lock, taken over within a refresh if it goes away.
   */
  leads(): boolean;
  /**
   * Drains the prediction log (retrying until `deadline`, epoch ms) and closes the
   * connection(s). Resolves with the rows that could not be written by then.
   */
  close(deadline?: number): Promise<PredictionRecord[]>;
}
