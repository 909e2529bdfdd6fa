/**
 * Sequential (anytime-valid) sample-ratio mismatch test. Pure.
 *
 * Lindon & Malek (2022), "Anytime-Valid Inference for Multinomial Count Data", Advances in
 * Neural Information Processing Systems 35 (NeurIPS 2022), arXiv:2011.03567, §2: each
 * request routed by the split is one draw from Categorical(θ); the null hypothesis is
 * θ = θ0, the configured shares. Against it stands a Dirichlet(k·θ0) mixture over θ, and
 *
 *   BF_n = ∫ ∏ θ_i^{x_i} dDir(θ; kθ0) / ∏ θ0_i^{x_i}
 *        = [B(kθ0 + x) / B(kθ0)] / ∏ θ0_i^{x_i},   B(a) = ∏ Γ(a_i) / Γ(Σ a_i),
 *
 * a function of the counts x alone. Under the null it is a nonnegative martingale with
 * mean 1, so by Ville's inequality P(BF_n ≥ 1/α for some n) ≤ α: the test may be read
 * after every request, every batch or every dashboard refresh, and it raises a false
 * alarm at most α of the time over the whole experiment. A chi-square test read the same
 * way raises one far more often (the seeded test shows both).
 *
 * The p-value is 1/BF at the current counts (capped at 1): P(1/BF_n ≤ α for some n) ≤ α,
 * so it is an anytime-valid p-value as the counts grow. (The running minimum over past
 * readings is the textbook form; it needs the history of readings, which a report built
 * from counts does not have, and can only be smaller.)
 *
 * Assumptions: requests are independent draws with fixed shares from the time the split
 * was last set (the counts must grow from one start: a sliding window is not a growing
 * sample). Sticky assignment makes a user's requests one unit, not many; a few heavy
 * users then look like a mismatch, which is what a sample-ratio alarm should flag anyway.
 * k = 100 is the prior concentration of the mixture (as in Lindon & Malek's examples and
 * the savvi implementation): smaller k detects gross mismatches sooner, larger k subtle ones.
 */
import { logGamma } from '../stats/log-gamma.js';

export const SEQUENTIAL_SRM_CONCENTRATION = 100;

export interface SequentialSampleRatioTest {
  /** ln BF_n: evidence against the configured split, in nats; ≥ ln(1/alpha) is a mismatch. */
  logBayesFactor: number;
  /** Anytime-valid p-value, min(1, 1/BF_n); 0 when traffic reached a version outside the split. */
  pValue: number;
  alpha: number;
  mismatch: boolean;
  /** Versions that received traffic with a share of 0 (or none): each alone is a mismatch. */
  unexpected: string[];
}

/**
 * The test of the observed requests per version against the configured shares (relative
 * weights, normalized here). Traffic to a version whose share is 0 cannot happen under the
 * split: pValue = 0, listed in `unexpected`. Null when there is no traffic, no positive
 * share, or fewer than two versions take part. Throws a RangeError on a count that is not
 * a whole number ≥ 0, a share that is not finite and ≥ 0, or alpha outside (0, 1).
 */
export function sequentialSampleRatioTest(
  observed: Readonly<Record<string, number>>,
  expectedShares: Readonly<Record<string, number>>,
  alpha: number,
  concentration = SEQUENTIAL_SRM_CONCENTRATION,
): SequentialSampleRatioTest | null {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (!(concentration > 0 && Number.isFinite(concentration))) {
    throw new RangeError(`concentration must be a finite number > 0, got ${concentration}`);
  }
  for (const [version, n] of Object.entries(observed)) {
    if (!(Number.isInteger(n) && n >= 0)) {
      throw new RangeError(`count of ${version} must be a whole number ≥ 0, got ${n}`);
    }
  }
  for (const [version, share] of Object.entries(expectedShares)) {
    if (!(Number.isFinite(share) && share >= 0)) {
      throw new RangeError(`share of ${version} must be a finite number ≥ 0, got ${share}`);
    }
  }
  const inSplit = Object.keys(expectedShares).filter((v) => (expectedShares[v] ?? 0) > 0);
  const unexpected = Object.keys(observed)
    .filter((v) => (observed[v] ?? 0) > 0 && !((expectedShares[v] ?? 0) > 0))
    .sort();
  const total = Object.values(observed).reduce((sum, n) => sum + n, 0);
  if (total === 0 || inSplit.length === 0 || inSplit.length + unexpected.length < 2) return null;
  if (unexpected.length > 0) {
    return {
      logBayesFactor: Number.POSITIVE_INFINITY,
      pValue: 0,
      alpha,
      mismatch: true,
      unexpected,
    };
  }

  const weightTotal = inSplit.reduce((sum, v) => sum + (expectedShares[v] ?? 0), 0);
  let logBayesFactor = logGamma(concentration) - logGamma(concentration + total);
  for (const version of inSplit) {
    const theta = (expectedShares[version] ?? 0) / weightTotal;
    const x = observed[version] ?? 0;
    const prior = concentration * theta;
    logBayesFactor += logGamma(prior + x) - logGamma(prior) - x * Math.log(theta);
  }
  const pValue = Math.min(1, Math.exp(-logBayesFactor));
  return {
    logBayesFactor,
    pValue,
    alpha,
    mismatch: logBayesFactor >= Math.log(1 / alpha),
    unexpected,
  };
}
