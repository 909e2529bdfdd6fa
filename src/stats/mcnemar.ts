import { logGamma } from './log-gamma.js';

/**
 * McNemar's exact test for paired labels (McNemar 1947): of the pairs where exactly one
 * of the two versions was right, `firstOnly` had only the first right and `secondOnly`
 * only the second. Under "equally accurate" each such pair is a fair coin, so the
 * two-sided p-value is min(1, 2·P(X ≤ min(firstOnly, secondOnly))) for X ~ Bin(firstOnly +
 * secondOnly, ½), summed as binomialUpperTail does (as scipy.stats.binomtest for p = ½). 1
 * when no pair disagrees.
 */
export function mcnemarExactPValue(firstOnly: number, secondOnly: number): number {
  if (
    !(
      Number.isInteger(firstOnly) &&
      Number.isInteger(secondOnly) &&
      firstOnly >= 0 &&
      secondOnly >= 0
    )
  ) {
    throw new RangeError(`McNemar needs two counts, got ${firstOnly} and ${secondOnly}`);
  }
  const n = firstOnly + secondOnly;
  if (n === 0 || firstOnly === secondOnly) return 1;
  // P(X ≤ min) = P(X ≥ max) at ½, and the upper tail stops once its terms vanish, so
  // a million discordant pairs cost thousands of terms, not half a million.
  return Math.min(1, 2 * binomialUpperTail(Math.max(firstOnly, secondOnly), n, 0.5));
}

/**
 * P(X ≥ k) for X ~ Bin(d, θ), 0 < θ < 1. It sums from k outward, in the direction the
 * terms shrink, and stops once they no longer change the sum, so a tail
 * of a million pairs costs a few thousand terms: from k up when k is above the mean
 * dθ, else 1 − P(X ≤ k − 1) summed from k − 1 down.
 */
export function binomialUpperTail(k: number, d: number, theta: number): number {
  if (k <= 0) return 1;
  if (k > d) return 0;
  const odds = theta / (1 - theta);
  // The first term in log space (C(d, k) overflows past d ≈ 1,000), the rest by the
  // ratio of neighbours: t(i + 1) / t(i) = (d − i) / (i + 1) · θ / (1 − θ).
  const termAt = (i: number) =>
    Math.exp(
      logGamma(d + 1) -
        logGamma(i + 1) -
        logGamma(d - i + 1) +
        i * Math.log(theta) +
        (d - i) * Math.log1p(-theta),
    );
  let sum = 0;
  if (k > d * theta) {
    let t = termAt(k);
    for (let i = k; i <= d && t > sum * Number.EPSILON; i++) {
      sum += t;
      t *= ((d - i) / (i + 1)) * odds;
    }
    return sum;
  }
  let t = termAt(k - 1);
  for (let i = k - 1; i >= 0 && t > sum * Number.EPSILON; i--) {
    sum += t;
    t *= i / (d - i + 1) / odds;
  }
  return Math.max(0, 1 - sum);
}

/**
 * Clopper–Pearson's lower end for a binomial proportion from k of d (Clopper & Pearson
 * 1934): the θ where P_θ(X ≥ k) = alpha / 2, found by bisection (the tail rises with θ).
 * `above` says on which side of ½ the root lies — the caller knows it from the exact
 * test, and searching only that half makes "lower end > ½" agree with the test even
 * when rounding would put the root a hair on the other side. The end returned is the
 * bracket's upper one, so it is > ½ whenever `above`.
 */
function clopperPearsonLower(k: number, d: number, alpha: number, above: boolean): number {
  if (k === 0) return 0;
  let low = above ? 0.5 : 0;
  let high = above ? 1 : 0.5;
  for (let step = 0; step < 200; step++) {
    const mid = (low + high) / 2;
    if (mid === low || mid === high) break;
    if (binomialUpperTail(k, d, mid) < alpha / 2) low = mid;
    else high = mid;
  }
  return high;
}

/**
 * The difference of two accuracies measured on the same n labelled pairs, second − first
 * = (secondOnly − firstOnly) / n, with an interval that agrees with the exact test by
 * construction. Given the d = firstOnly + secondOnly discordant pairs, secondOnly ~
 * Bin(d, θ), and the difference is (2θ − 1)·d/n. The interval is Clopper–Pearson's exact
 * one for θ at the same level (Clopper & Pearson 1934), mapped through that line: it is
 * for the difference given the observed discordance rate d/n, which it treats as fixed
 * (conditional, as McNemar's test is; Fagerland, Lydersen & Laake 2014, Statistics in
 * Medicine 33(16), review the unconditional alternatives, which can disagree with it). Because the exact test
 * (mcnemarExactPValue) doubles the smaller tail, p < alpha exactly when one tail at ½ is
 * below alpha/2, which is exactly when the Clopper–Pearson interval leaves ½ out: the
 * interval excludes 0 if and only if p < 1 − confidence (src/stats/mcnemar.test.ts checks
 * every b, c ≤ 40). No discordant pair gives [0, 0]: given no discordance the accuracies
 * are equal. Null without pairs.
 */
export function pairedDifferenceInterval(
  firstOnly: number,
  secondOnly: number,
  n: number,
  confidence = 0.95,
): { estimate: number; low: number; high: number } | null {
  if (n <= 0) return null;
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  }
  const d = firstOnly + secondOnly;
  if (d > n) throw new RangeError(`${d} discordant pairs out of ${n}`);
  const estimate = (secondOnly - firstOnly) / n;
  if (d === 0) return { estimate, low: 0, high: 0 };
  const alpha = 1 - confidence;
  const significant = mcnemarExactPValue(firstOnly, secondOnly) < alpha;
  const thetaLow = clopperPearsonLower(secondOnly, d, alpha, significant && secondOnly > firstOnly);
  const thetaHigh =
    1 - clopperPearsonLower(firstOnly, d, alpha, significant && firstOnly > secondOnly);
  const toDifference = (theta: number) => ((2 * theta - 1) * d) / n;
  return { estimate, low: toDifference(thetaLow), high: toDifference(thetaHigh) };
}
