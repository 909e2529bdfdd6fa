export type RolloutStatus = 'running' | 'completed' | 'rolled_back' | 'aborted';

export interface RolloutRecord {
  model: string;
  candidate: string;
  /** The live version when the rollout started: what the candidate is judged against. */
  baseline: string;
  steps: number[];
  stepIndex: number;
  intervalMs: number;
  guards: Record<string, unknown>;
  status: RolloutStatus;
  stepStartedAt: number;
  nextEvaluationAt: number | null;
  readings: unknown[];
  startedAt: number;
  finishedAt: number | null;
  outcome: string | null;
}

export interface RolloutStore {
  get(model: string): Promise<RolloutRecord | undefined>;
  running(): Promise<RolloutRecord[]>;
  save(record: RolloutRecord): Promise<void>;
}
