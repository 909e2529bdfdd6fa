import type { DeploymentEvent, DeploymentState } from './deployment-state.js';
import type { RolloutRecord } from './rollouts.js';

/** A deployment this replica cannot apply yet: it keeps serving the previous one. */
export interface LaggingDeployment {
  model: string;
  /** The revision it cannot apply. */
  revision: number;
  reason: string;
}

export interface StoredDeploymentEvent extends DeploymentEvent {
  id: number;
}

/**
 * Current deployments, read by every request from memory and changed by the
 * control plane. A change is persisted with its audit event in one transaction
 * before it becomes visible, so what a request sees has always been committed.
 */
export interface DeploymentStore {
  /** From memory: the request path never waits on the database. */
  get(model: string): DeploymentState | undefined;
  all(): DeploymentState[];
  /**
   * Persists `next` and `event` atomically, if the stored revision is still
   * `next.revision - 1` (compare-and-set); otherwise a 409 conflict and nothing changes.
   * A rollout's record is written in the same transaction: every change of a
   * rollout's state is then ordered by the deployment's revision with every other
   * change of that model, on every replica.
   */
  commit(next: DeploymentState, event: DeploymentEvent, rollout?: RolloutRecord): Promise<void>;
  /** Newest first. */
  events(model: string, limit: number): Promise<StoredDeploymentEvent[]>;
  /** Re-reads one deployment from the database (after a conflict: another replica moved it). */
  reload(model: string): Promise<DeploymentState | undefined>;
  /**
   * Runs `prepare` on every deployment read from the database before it replaces
   * the one in memory (another replica's change): the replica loads the versions
   * it needs first. When `prepare` throws, the previous deployment keeps serving
   * and `lagging()` says which model and why, until a later read succeeds.
   */
  prepareWith(prepare: (next: DeploymentState) => Promise<void>): void;
  /**
   * Told each time a deployment in memory is replaced by a newer one (this replica's
   * change or another's): the replica then lets go of versions it no longer hosts.
   */
  onReplaced(listener: (previous: DeploymentState, next: DeploymentState) => void): void;
  lagging(): LaggingDeployment[];
}
