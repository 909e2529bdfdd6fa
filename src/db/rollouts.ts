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
  /**
   * Stores `record` only if the stored one is still running the same step
   * (same stepIndex and stepStartedAt): a step held for another interval must not
   * overwrite an abort or a step committed meanwhile. False when it did not land.
   * (Every other change of a rollout is committed with its deployment change.)
   */
  saveIfSameStep(record: RolloutRecord): Promise<boolean>;
}
