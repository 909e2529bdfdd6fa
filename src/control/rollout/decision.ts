/**
 * What a rollout does at an evaluation: advance, roll back or wait. The one decision
 * function: the rollout service calls it with the step's window, `npm run simulate`
 * calls it with simulated windows. Pure.
 *
 * Each step is judged on its own window (the split is constant within it, so both arms
 * sample the same period) by a fresh set of confidence sequences; the rollout's alpha is
 * split evenly across the judged steps (those below 100 %) and, in evaluateGuards, across
 * the guards: by a union bound the whole rollout rolls back a candidate no worse than
 * live with probability at most alpha, however often it is evaluated (docs/statistics.md).
 */
import {
  evaluateGuards,
  type GuardConfig,
  type GuardDecision,
  type WindowStats,
} from './guards.js';

export const DEFAULT_ALPHA = 0.05;

export interface RolloutPolicy {
  /** The rollout's error budget, for all its steps and guards together. */
  alpha: number;
  guards: GuardConfig;
  /** How long a step may stay inconclusive before `onInconclusive` applies; null: no limit. */
  maxStepDurationMs: number | null;
  onInconclusive: 'hold' | 'rollback';
}

export interface StepDecision {
  action: 'advance' | 'rollback' | 'wait';
  /** True when the step outlived maxStepDurationMs without a decision. */
  inconclusive: boolean;
  /** The alpha each step's guards share. */
  stepAlpha: number;
  guards: GuardDecision;
}

/** The steps that are judged: the one at 100 % promotes without an evaluation. */
export const judgedSteps = (steps: readonly number[]) =>
  Math.max(1, steps.filter((s) => s < 100).length);

export function decideStep(input: {
  stats: WindowStats;
  policy: RolloutPolicy;
  steps: readonly number[];
  /** Time spent in the step so far. */
  stepElapsedMs: number;
}): StepDecision {
  const { stats, policy, steps, stepElapsedMs } = input;
  const stepAlpha = policy.alpha / judgedSteps(steps);
  const guards = evaluateGuards(stats, policy.guards, stepAlpha);
  const overdue =
    guards.decision === 'wait' &&
    policy.maxStepDurationMs !== null &&
    stepElapsedMs >= policy.maxStepDurationMs;
  const action =
    guards.decision === 'fail'
      ? 'rollback'
      : guards.decision === 'pass'
        ? 'advance'
        : overdue && policy.onInconclusive === 'rollback'
          ? 'rollback'
          : 'wait';
  return { action, inconclusive: overdue, stepAlpha, guards };
}
