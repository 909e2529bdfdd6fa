/**
 * The anytime-valid ("sequential") figures of a comparison, from the confidence sequences
 * in stats/confidence-sequence.ts (the same ones the rollout guards decide on). Pure.
 *
 * A confidence sequence covers the truth at every sample size at once, so these figures
 * may be read after every refresh and acted on whenever they look decisive, without the
 * error rate growing with the number of looks. The price is width: at a given n a
 * sequence is wider than the fixed-horizon interval. The guarantee is for counts that
 * grow from one start (a fixed `since`, or the split change); a sliding window ("the last
 * hour") is a new sample at every look and gets no such guarantee.
 *
 * - A difference candidate − baseline holds at `alpha` by a union bound over one sequence
 *   per version, each at alpha/2 (`differenceOf`): valid for any ratio of traffic.
 * - Its p-value is the smallest alpha at which that interval excludes 0, found by
 *   bisection on ln alpha (`sequentialPValue`): P(p ever ≤ alpha | no difference) ≤ alpha.
 */
import {
  type Bounds,
  bernoulliSequence,
  differenceOf,
  type MeanSummary,
  meanSequence,
  sequentialPValue,
} from '../stats/confidence-sequence.js';

/** The level of every sequential figure in the report: 95 %, as the fixed-horizon ones. */
export const SEQUENTIAL_ALPHA = 0.05;

export interface SequentialInterval {
  low: number;
  high: number;
}

export interface SequentialDifference extends SequentialInterval {
  /** Always-valid two-sided p-value of "no difference". */
  pValue: number;
  /** pValue < alpha, i.e. the interval excludes 0. */
  significant: boolean;
}

const excludesZero = (d: Bounds) => d.lower > 0 || d.upper < 0;
const interval = (b: Bounds): SequentialInterval => ({ low: b.lower, high: b.upper });

/** One version's accuracy: the Bernoulli confidence sequence of `correct` of `n`. */
export function accuracySequence(correct: number, n: number): SequentialInterval {
  return interval(bernoulliSequence(correct, n, SEQUENTIAL_ALPHA));
}

/** candidate − baseline accuracy. */
export function accuracyDifferenceSequence(
  baseline: { correct: number; n: number },
  candidate: { correct: number; n: number },
): SequentialDifference {
  const at = (alpha: number) =>
    differenceOf(
      bernoulliSequence(candidate.correct, candidate.n, alpha / 2),
      bernoulliSequence(baseline.correct, baseline.n, alpha / 2),
    );
  return difference(at);
}

/**
 * One version's mean value: the asymptotic sequence of Waudby-Smith et al. (valid as n
 * grows for independent outcomes with finite variance). Null below two values.
 */
export function meanValueSequence(summary: MeanSummary): SequentialInterval | null {
  return summary.n < 2 ? null : interval(meanSequence(summary, SEQUENTIAL_ALPHA));
}

/** candidate − baseline mean value. Null unless both have two values or more. */
export function meanDifferenceSequence(
  baseline: MeanSummary,
  candidate: MeanSummary,
): SequentialDifference | null {
  if (baseline.n < 2 || candidate.n < 2) return null;
  const at = (alpha: number) =>
    differenceOf(meanSequence(candidate, alpha / 2), meanSequence(baseline, alpha / 2));
  return difference(at);
}

function difference(at: (alpha: number) => Bounds): SequentialDifference {
  const pValue = sequentialPValue((alpha) => excludesZero(at(alpha)));
  return { ...interval(at(SEQUENTIAL_ALPHA)), pValue, significant: pValue < SEQUENTIAL_ALPHA };
}
