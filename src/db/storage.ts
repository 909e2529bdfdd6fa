import type { DeploymentStore } from './deployments.js';
import type { FeedbackStore } from './feedback.js';
import type { PredictionLog } from './predictions.js';
import type { RolloutStore } from './rollouts.js';
import type { StatsQueries } from './stats-queries.js';

export interface StorageHealth {
  /** False while the database cannot be reached: predictions still flow, control changes fail. */
  ok: boolean;
  /** Why not, in words, for /v2/health/ready. */
  detail?: string;
  /** Log rows accepted but not yet committed. */
  pendingRows: number;
  /**
   * False once the log has refused a prediction for want of room (the database has
   * been away too long), until a write succeeds again: the replica is then not ready.
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
  queries: StatsQueries;
  health(): StorageHealth;
  /**
   * Whether this process runs the jobs that must run once for all replicas (the
   * progressive rollout timers). Always true for SQLite; with PostgreSQL, the one
   * replica holding the leader lock, taken over within a refresh if it goes away.
   */
  leads(): boolean;
  /** Drains the prediction log and closes the connection(s). */
  close(): Promise<void>;
}
