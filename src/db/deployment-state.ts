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
  /**
   * The versions every replica hosts for this model, each with the SHA-256 of the
   * model.onnx it must serve under that name: the versions found at first start, plus
   * every `load` (a `reload` changes the hash), minus every `unload`.
   */
  hosted: Record<string, string>;
  /** Bumped on every change; lets stores detect lost updates. */
  revision: number;
}

/**
 * Every version this deployment can send a request to — live, standby (a flip
 * away), the split's versions (a rollout's candidate among them) and the shadow —
 * and every version it hosts. A replica must have all of them loaded before it may
 * apply the deployment.
 */
export function neededVersions(state: DeploymentState): string[] {
  const needed = new Set([state.live, ...Object.keys(state.hosted)]);
  if (state.standby) needed.add(state.standby);
  for (const version of Object.keys(state.split ?? {})) needed.add(version);
  if (state.shadow) needed.add(state.shadow.version);
  return [...needed];
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
  | 'reload'
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
