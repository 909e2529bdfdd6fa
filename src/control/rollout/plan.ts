/** Parsing and validating a rollout request, and the split each step applies. Pure. */
import type { SplitWeights } from '../../db/deployment-state.js';
import { parseDuration } from '../../duration.js';
import { badRequest } from '../../errors.js';
import { DEFAULT_ALPHA, type RolloutPolicy } from './decision.js';
import type { GuardConfig } from './guards.js';

export const MIN_INTERVAL_MS = 1000;
/** setTimeout fires at once for anything longer (a 32-bit signed delay). */
export const MAX_INTERVAL_MS = 2 ** 31 - 1;

/** `"2m"`, `"30s"`, `"1500ms"`, `"1h"` → ms; at least one second. */
export function parseInterval(value: string): number {
  return durationField('interval', value);
}

function durationField(field: string, value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) {
    throw badRequest(`${field}: "${value}" is not a duration (use 30s, 2m, 1h)`);
  }
  if (ms < MIN_INTERVAL_MS) throw badRequest(`${field}: ${value} is below the minimum of 1s`);
  if (ms > MAX_INTERVAL_MS) {
    throw badRequest(
      `${field}: ${value} is above the maximum of ${MAX_INTERVAL_MS} ms (about 596h, the longest timer Node.js keeps)`,
    );
  }
  return ms;
}

/** Steps are candidate traffic percentages, strictly increasing, within 1–100. */
export function validateSteps(steps: readonly number[]): number[] {
  if (steps.length === 0) throw badRequest('steps: expected at least one step');
  steps.forEach((step, i) => {
    if (!Number.isInteger(step) || step < 1 || step > 100) {
      throw badRequest(`steps[${i}]: expected a whole percentage from 1 to 100, got ${step}`);
    }
    const previous = steps[i - 1];
    if (previous !== undefined && step <= previous) {
      throw badRequest(`steps[${i}]: steps must increase (${previous} then ${step})`);
    }
  });
  return [...steps];
}

/**
 * The split of one step. Routing walks a split's versions in name order, so the
 * candidate's buckets are one end of the per-mille range and grow from that end:
 * with two versions, every user moved at one step stays moved at the next.
 */
export function stepSplit(live: string, candidate: string, percent: number): SplitWeights {
  return { [live]: 100 - percent, [candidate]: percent };
}

/**
 * Fields of the fixed-threshold guards (before confidence sequences) → what replaced
 * them, so that an old request gets a 400 that says what to send instead.
 */
export const RETIRED_GUARD_FIELDS: Readonly<Record<string, string>> = {
  maxIncreasePoints:
    'replaced by "margin", a fraction (0.01 = 1 point): the guard passes once the always-valid interval of candidate − live is below it',
  alpha:
    'replaced by the rollout\'s top-level "alpha" (default 0.05), shared by all guards and steps',
  minSamples:
    'removed: a guard waits until its confidence sequence decides; set the rollout\'s "maxStepDuration" to bound the wait',
};

export interface PolicyRequest {
  alpha?: number | undefined;
  maxStepDuration?: string | undefined;
  onInconclusive?: 'hold' | 'rollback' | undefined;
  guards: GuardConfig;
}

/** The request's decision settings, validated, with the defaults filled in. */
export function rolloutPolicy(request: PolicyRequest, intervalMs: number): RolloutPolicy {
  const alpha = request.alpha ?? DEFAULT_ALPHA;
  if (!(alpha > 0 && alpha < 0.5))
    throw badRequest(`alpha: expected within (0, 0.5), got ${alpha}`);
  const maxStepDurationMs =
    request.maxStepDuration === undefined
      ? null
      : durationField('maxStepDuration', request.maxStepDuration);
  if (maxStepDurationMs !== null && maxStepDurationMs < intervalMs) {
    throw badRequest(`maxStepDuration: ${request.maxStepDuration} is shorter than the interval`);
  }
  return {
    alpha,
    guards: request.guards,
    maxStepDurationMs,
    onInconclusive: request.onInconclusive ?? 'hold',
  };
}
