/**
 * The deployment of one model as the gateway routes it and the control plane
 * changes it. Lives in db/ because both gateway/ and control/ read it and
 * neither may import the other.
 */
export type SplitSource = 'local' | 'unleash';

/** Relative weights per version as the user gave them, e.g. { v1: 90, v2: 10 }. */
export type SplitWeights = Record<string, number>;

export interface ShadowConfig {
  version: string;
  /** Share of served requests mirrored to `version`, 0–100. */
  percent: number;
}

export interface DeploymentState {
  model: string;
  live: string;
  standby: string | null;
  /** Earlier live versions, oldest first; rollback pops the last one. */
  history: string[];
  split: SplitWeights | null;
  source: SplitSource;
  /** After promote/rollback/flip all traffic goes to live until a split or flag change. */
  pinned: boolean;
  shadow: ShadowConfig | null;
  /** Bumped on every change; lets stores detect lost updates. */
  revision: number;
}

export type DeploymentAction =
  | 'init'
  | 'promote'
  | 'rollback'
  | 'flip'
  | 'split'
  | 'source'
  | 'shadow'
  | 'unpin'
  | 'load'
  | 'unload'
  | 'rollout_start'
  | 'rollout_step'
  | 'rollout_abort'
  | 'rollout_guard_tripped'
  | 'rollout_complete';

export interface DeploymentEvent {
  model: string;
  action: DeploymentAction;
  from: string | null;
  to: string | null;
  actor: string;
  reason: string | null;
  /** Extra facts worth auditing (weights, guard readings), stored as JSON. */
  detail?: Record<string, unknown> | null;
  ts: number;
}
