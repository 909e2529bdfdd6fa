import { logGamma } from './log-gamma.js';

/** A tail of a binomial distribution and how many of its terms were summed to get it. */
export interface TailSum {
  value: number;
  terms: number;
}

/**
 * Σ P(X = i) for X ~ Bin(d, θ) from i = `from` one by one in `direction` (+1 up to d, −1
 * down to 0), in log space. The caller starts at the tail's largest term, so the terms
 * only shrink: it stops once one no longer changes the sum, so a tail of ten million
 * pairs costs some ten thousand terms, not five million. Consecutive terms differ by
 * ln((d − i)/(i + 1)) + ln(θ/(1 − θ)), one logarithm each instead of three ln Γ.
 */
export function binomialTailSum(
  from: number,
  d: number,
  theta: number,
  direction: 1 | -1,
): TailSum {
  const logOdds = Math.log(theta) - Math.log1p(-theta);
  let logTerm =
    logGamma(d + 1) -
    logGamma(from + 1) -
    logGamma(d - from + 1) +
    from * Math.log(theta) +
    (d - from) * Math.log1p(-theta);
  let value = 0;
  let terms = 0;
  for (let i = from; i >= 0 && i <= d; i += direction) {
    const term = Math.exp(logTerm);
    value += term;
    terms++;
    if (term <= value * Number.EPSILON) break;
    logTerm +=
      direction === 1 ? Math.log((d - i) / (i + 1)) + logOdds : Math.log(i / (d - i + 1)) - logOdds;
  }
  return { value, terms };
}

/**
 * The smaller tail of McNemar's exact test, P(X ≤ min(b, c)) for X ~ Bin(b + c, ½), with
 * its cost in terms: summed from min(b, c) down, where the terms are largest. 1 without
 * discordant pairs.
 */
export function mcnemarSmallerTail(firstOnly: number, secondOnly: number): TailSum {
  checkCounts(firstOnly, secondOnly);
  const n = firstOnly + secondOnly;
  if (n === 0) return { value: 1, terms: 0 };
  return binomialTailSum(Math.min(firstOnly, secondOnly), n, 0.5, -1);
}

function checkCounts(firstOnly: number, secondOnly: number) {
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
}

/**
 * McNemar's exact test for paired labels (McNemar 1947): of the pairs where exactly one
 * of the two versions was right, `firstOnly` had only the first right and `secondOnly`
 * only the second. Under "equally accurate" each such pair is a fair coin, so the
 * two-sided p-value is min(1, 2·P(X ≤ min(firstOnly, secondOnly))) for X ~ Bin(firstOnly +
 * secondOnly, ½), summed exactly in log space (as scipy.stats.binomtest for p = ½). 1
 * when no pair disagrees.
 */
export function mcnemarExactPValue(firstOnly: number, secondOnly: number): number {
  checkCounts(firstOnly, secondOnly);
  // An even split is the middle of the distribution: the smaller tail is ≥ ½.
  if (firstOnly === secondOnly) return 1;
  return Math.min(1, 2 * mcnemarSmallerTail(firstOnly, secondOnly).value);
}

/**
 * P(X ≥ k) for X ~ Bin(d, θ), 0 < θ < 1: from k up when k is above the mean dθ (the
 * terms shrink that way), else 1 − P(X ≤ k − 1) summed from k − 1 down.
 */
export function binomialUpperTail(k: number, d: number, theta: number): number {
  if (k <= 0) return 1;
  if (k > d) return 0;
  if (k > d * theta) return binomialTailSum(k, d, theta, 1).value;
  return Math.max(0, 1 - binomialTailSum(k - 1, d, theta, -1).value);
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
 * every b, c ≤ 40). `pValue` is that test's p for these counts: a caller that reports it
 * too passes it in rather than pay for the sum twice.
 *
 * No discordant pair: given d = 0 the conditional interval would be [0, 0], which reads as
 * certainty. Instead it says what n concordant pairs do show: |difference| ≤ the
 * discordance rate, which Clopper–Pearson bounds from 0 of n by
 * u = 1 − ((1 − confidence)/2)^(1/n); so [−u, u]. It misses the difference only when the
 * discordance rate is above u, and then n pairs all agree with probability below
 * (1 − confidence)/2. Null without pairs.
 */
export function pairedDifferenceInterval(
  firstOnly: number,
  secondOnly: number,
  n: number,
  confidence = 0.95,
  pValue = mcnemarExactPValue(firstOnly, secondOnly),
): { estimate: number; low: number; high: number } | null {
  if (n <= 0) return null;
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  }
  const d = firstOnly + secondOnly;
  if (d > n) throw new RangeError(`${d} discordant pairs out of ${n}`);
  const estimate = (secondOnly - firstOnly) / n;
  const alpha = 1 - confidence;
  if (d === 0) {
    const discordance = -Math.expm1(Math.log(alpha / 2) / n);
    return { estimate, low: -discordance, high: discordance };
  }
  const significant = pValue < alpha;
  const thetaLow = clopperPearsonLower(secondOnly, d, alpha, significant && secondOnly > firstOnly);
  const thetaHigh =
    1 - clopperPearsonLower(firstOnly, d, alpha, significant && firstOnly > secondOnly);
  const toDifference = (theta: number) => ((2 * theta - 1) * d) / n;
  return { estimate, low: toDifference(thetaLow), high: toDifference(thetaHigh) };
}
