/**
 * Anytime-valid confidence sequences. Pure, no I/O, cheap enough to be evaluated
 * millions of times (npm run simulate). docs/statistics.md states the method, every
 * assumption and what happens when it does not hold.
 *
 * A confidence sequence (CS) at level alpha is a sequence of intervals C_1, C_2, …
 * with P(∃ n: θ ∉ C_n) ≤ alpha: it covers the truth at every sample size at once,
 * so it may be looked at after every observation and acted on at any time
 * ("always valid") without inflating the error rate. A fixed-horizon interval only
 * promises coverage at one n fixed in advance.
 *
 * Exports:
 * - `bernoulliSequence(successes, n, alpha)` → {lower, upper}: exact CS for the mean
 *   of 0/1 outcomes (accuracy from feedback labels, error rate, shadow disagreement).
 *   Robbins' beta-binomial mixture martingale (Robbins 1970; Howard, Ramdas,
 *   McAuliffe & Sekhon 2021, Annals of Statistics 49(2), "Time-uniform, nonparametric,
 *   nonasymptotic confidence sequences", §3 conjugate mixtures).
 * - `bernoulliExcludes(successes, n, p, alpha)`: whether that CS excludes p, without
 *   solving for its ends (one log-beta; what the quantile sequence scans with);
 *   `bernoulliAbove` / `bernoulliBelow`: whether it lies wholly above / below a point;
 *   `bernoulliEnd`: one end only.
 * - `differenceAbove` / `differenceBelow`: whether the difference interval of two
 *   Bernoulli arms (below) lies wholly above / below a point, solving one end instead
 *   of four: what the guards decide with; the interval itself is for display.
 * - `meanSequence({n, mean, variance}, alpha)` → {lower, upper}: asymptotic CS for the
 *   mean of numeric outcomes (Waudby-Smith, Arnold, Wu & Ramdas 2024, Annals of
 *   Statistics, "Time-uniform central limit theory and asymptotic confidence
 *   sequences", Theorem 2.2: the Robbins normal mixture with the sample variance).
 * - `quantileSequence(buckets, q, alpha)` → {lower, upper}: CS for the q-quantile of
 *   a bucketed distribution (Howard & Ramdas 2022, Bernoulli 28(3), "Sequential
 *   estimation of quantiles with applications to A/B-testing and best-arm
 *   identification", Theorem 1: one Bernoulli CS at the unknown quantile).
 * - `differenceOf(candidate, live)` → {lower, upper}: the interval for candidate − live
 *   from one CS per arm: [L_cand − U_live, U_cand − L_live]. With each arm at alpha/2
 *   the difference holds at alpha by a union bound, for any sampling ratio between arms.
 * - `ratioOf(candidate, live)`: the same for candidate / live of positive quantities.
 * - `sequentialPValue(excludes)`: the smallest alpha at which a CS excludes the null
 *   (an always-valid p-value: P(∃ n: p_n ≤ alpha) ≤ alpha under the null).
 *
 * Every CS here is two-sided at the alpha given: P(the truth is ever outside) ≤ alpha.
 */
import { logGamma } from './log-gamma.js';

export interface Bounds {
  lower: number;
  upper: number;
}

/**
 * Prior Beta(½, ½) (Jeffreys) for the beta-binomial mixture. Any fixed prior gives a
 * valid CS; this one puts more mass near 0 and 1 than the uniform, which narrows the
 * sequence for rare events (error rates of 0.5 %) at a small cost near ½.
 */
export const BETA_PRIOR = { a: 0.5, b: 0.5 } as const;

/** ln B(a, b), in log space so that 10⁶ successes do not overflow. */
export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

const LOG_BETA_PRIOR = logBeta(BETA_PRIOR.a, BETA_PRIOR.b);

function checkAlpha(alpha: number) {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
}

function checkCounts(successes: number, n: number) {
  if (!(Number.isInteger(n) && n >= 0 && Number.isInteger(successes))) {
    throw new RangeError(`expected whole counts, got ${successes} of ${n}`);
  }
  if (successes < 0 || successes > n) {
    throw new RangeError(`successes must be within 0–n, got ${successes} of ${n}`);
  }
}

/**
 * The mixture martingale M_n(p) = B(a + S, b + F) / B(a, b) / (p^S (1 − p)^F) is the
 * likelihood ratio of the beta mixture against Bernoulli(p); under Bernoulli(p) it is a
 * nonnegative martingale with mean 1, so by Ville's inequality P(∃ n: M_n(p) ≥ 1/alpha)
 * ≤ alpha. The CS is {p : M_n(p) < 1/alpha} = {p : h(p) < c} with
 * h(p) = −S ln p − F ln(1 − p) and c = ln(1/alpha) + ln B(a, b) − ln B(a + S, b + F).
 */
function threshold(successes: number, n: number, alpha: number): number {
  const failures = n - successes;
  return (
    -Math.log(alpha) + LOG_BETA_PRIOR - logBeta(BETA_PRIOR.a + successes, BETA_PRIOR.b + failures)
  );
}

export function bernoulliExcludes(successes: number, n: number, p: number, alpha: number): boolean {
  checkAlpha(alpha);
  checkCounts(successes, n);
  if (n === 0) return false;
  if (p <= 0) return successes > 0;
  if (p >= 1) return successes < n;
  const h = -successes * Math.log(p) - (n - successes) * Math.log1p(-p);
  return h >= threshold(successes, n, alpha);
}

/**
 * Solves h(θ) = c on one side of the minimum, in log-odds θ: h(θ) = n·softplus(θ) − S·θ
 * is convex with h' = n·p − S and h'' = n·p·(1 − p), and nearly linear far out, so
 * Halley's method converges in two or three steps from the quadratic guess and p never
 * leaves (0, 1).
 */
function solveSide(
  successes: number,
  n: number,
  c: number,
  thetaHat: number,
  sign: 1 | -1,
): number {
  const pHat = successes / n;
  const atHat =
    n * (Math.max(thetaHat, 0) + Math.log1p(Math.exp(-Math.abs(thetaHat)))) - successes * thetaHat;
  const gap = Math.max(c - atHat, 1e-12);
  let theta = thetaHat + sign * Math.sqrt((2 * gap) / (n * pHat * (1 - pHat)));
  let p = 0;
  for (let i = 0; i < 60; i++) {
    const e = Math.exp(-Math.abs(theta));
    p = theta >= 0 ? 1 / (1 + e) : e / (1 + e);
    const f = n * (Math.max(theta, 0) + Math.log1p(e)) - successes * theta - c;
    const d1 = n * p - successes;
    const d2 = n * p * (1 - p);
    if (d1 === 0) break;
    const step = (2 * f * d1) / (2 * d1 * d1 - f * d2);
    let next = theta - step;
    // A step back past the minimum would head for the other root: halve towards it instead.
    if (!(sign * (next - thetaHat) > 0)) next = (theta + thetaHat) / 2;
    if (Math.abs(next - theta) <= 1e-9 * (1 + Math.abs(theta))) {
      theta = next;
      break;
    }
    theta = next;
  }
  return 1 / (1 + Math.exp(-theta));
}

/** Exact two-sided CS for a Bernoulli mean from `successes` of `n` (see the header). */
export function bernoulliSequence(successes: number, n: number, alpha: number): Bounds {
  return {
    lower: bernoulliEnd(successes, n, alpha, -1),
    upper: bernoulliEnd(successes, n, alpha, 1),
  };
}

/** One end of bernoulliSequence: −1 the lower, +1 the upper. */
export function bernoulliEnd(successes: number, n: number, alpha: number, side: 1 | -1): number {
  checkAlpha(alpha);
  checkCounts(successes, n);
  if (n === 0) return side === 1 ? 1 : 0;
  const c = threshold(successes, n, alpha);
  const failures = n - successes;
  // All one outcome: h is monotone and the open end has a closed form.
  if (side === -1) {
    if (successes === 0) return 0;
    if (failures === 0) return Math.exp(-c / n);
  } else {
    if (failures === 0) return 1;
    if (successes === 0) return -Math.expm1(-c / n);
  }
  return solveSide(successes, n, c, Math.log(successes / failures), side);
}

/**
 * Whether the whole CS lies above x (its lower end > x), without solving for the end:
 * the CS is an interval around the estimate, so that holds exactly when x is below the
 * estimate and excluded. What makes the guards' decisions cheap (npm run simulate).
 */
export function bernoulliAbove(successes: number, n: number, x: number, alpha: number): boolean {
  if (x < 0) return true;
  if (n === 0 || x >= 1) return false;
  return x < successes / n && bernoulliExcludes(successes, n, x, alpha);
}

/** Whether the whole CS lies below x (its upper end < x). */
export function bernoulliBelow(successes: number, n: number, x: number, alpha: number): boolean {
  if (x > 1) return true;
  if (n === 0 || x <= 0) return false;
  return x > successes / n && bernoulliExcludes(successes, n, x, alpha);
}

export interface Proportion {
  successes: number;
  n: number;
}

/**
 * Whether candidate − live, from one Bernoulli CS per arm at alpha/2 each, lies wholly
 * above d: L_cand − U_live > d ⟺ L_cand > U_live + d. One end solved instead of four.
 */
export function differenceAbove(
  candidate: Proportion,
  live: Proportion,
  d: number,
  alpha: number,
): boolean {
  // The interval holds both estimates' difference: it cannot lie above d unless that does.
  if (
    candidate.n > 0 &&
    live.n > 0 &&
    candidate.successes / candidate.n - live.successes / live.n <= d
  ) {
    return false;
  }
  const liveUpper = bernoulliEnd(live.successes, live.n, alpha / 2, 1);
  return bernoulliAbove(candidate.successes, candidate.n, liveUpper + d, alpha / 2);
}

/** Whether candidate − live lies wholly below d: U_cand < L_live + d. */
export function differenceBelow(
  candidate: Proportion,
  live: Proportion,
  d: number,
  alpha: number,
): boolean {
  if (
    candidate.n > 0 &&
    live.n > 0 &&
    candidate.successes / candidate.n - live.successes / live.n >= d
  ) {
    return false;
  }
  const liveLower = bernoulliEnd(live.successes, live.n, alpha / 2, -1);
  return bernoulliBelow(candidate.successes, candidate.n, liveLower + d, alpha / 2);
}

export interface MeanSummary {
  n: number;
  mean: number;
  /** Sample variance (either divisor: the CS is asymptotic). */
  variance: number;
}

/**
 * The sample size the normal mixture is tuned for: its interval is narrowest near
 * here and valid everywhere. 1,000 outcomes per arm is where a typical rollout step
 * decides (docs/statistics.md).
 */
export const MEAN_SEQUENCE_TARGET_N = 1000;

/**
 * Asymptotic CS for a mean (Waudby-Smith et al. 2024, Theorem 2.2):
 *   mean ± σ̂ · sqrt( 2(nρ² + 1) / (n²ρ²) · ln( sqrt(nρ² + 1) / alpha ) ),
 * ρ² = (−2 ln alpha + ln(−2 ln alpha + 1)) / t*, which makes it narrowest at n = t*.
 * Valid as n grows for independent outcomes with finite variance (a 2 + δ moment);
 * at small n it can undercover, most for skewed outcomes: callers wait for a burn-in
 * (docs/statistics.md measures it).
 */
export function meanSequence(
  summary: MeanSummary,
  alpha: number,
  targetN: number = MEAN_SEQUENCE_TARGET_N,
): Bounds {
  checkAlpha(alpha);
  const { n, mean, variance } = summary;
  if (!(n >= 1) || !Number.isFinite(mean) || !(variance >= 0)) {
    return { lower: Number.NEGATIVE_INFINITY, upper: Number.POSITIVE_INFINITY };
  }
  const la = -2 * Math.log(alpha);
  const rho2 = (la + Math.log(la + 1)) / targetN;
  const nr = n * rho2 + 1;
  const half =
    Math.sqrt(variance) * Math.sqrt(((2 * nr) / (n * n * rho2)) * Math.log(Math.sqrt(nr) / alpha));
  return { lower: mean - half, upper: mean + half };
}

/** Buckets of a distribution in increasing order of value: `upperEdge` bounds each bucket's values from above. */
export interface QuantileBucket {
  /** Every value counted in the bucket is below this. */
  upperEdge: number;
  count: number;
}

/**
 * CS for the q-quantile ξ (Howard & Ramdas 2022, Theorem 1). The indicator 1{X < ξ} is
 * Bernoulli(q) for continuous X, so one Bernoulli CS on it suffices, whatever the data:
 * the upper end is the first bucket edge e whose count below e is too large for q
 * (the CS of #{X < e} lies above q, hence ξ ≤ e), the lower end the last edge whose count
 * is too small (the CS lies below q, hence ξ ≥ e). Bucketing only widens the interval.
 * `lower` is 0 and `upper` +∞ until the data rule out the rest.
 */
export function quantileSequence(
  buckets: readonly QuantileBucket[],
  q: number,
  alpha: number,
): Bounds {
  checkAlpha(alpha);
  if (!(q > 0 && q < 1)) throw new RangeError(`q must be in (0, 1), got ${q}`);
  const n = buckets.reduce((sum, b) => sum + b.count, 0);
  let lower = 0;
  let upper = Number.POSITIVE_INFINITY;
  let below = 0;
  for (const bucket of buckets) {
    below += bucket.count;
    if (bucket.count === 0) continue;
    if (!bernoulliExcludes(below, n, q, alpha)) continue;
    if (below / n < q) lower = bucket.upperEdge;
    else {
      upper = bucket.upperEdge;
      break;
    }
  }
  return { lower, upper };
}

/** candidate − live from one CS per arm (each at alpha/2 for the difference at alpha). */
export function differenceOf(candidate: Bounds, live: Bounds): Bounds {
  return { lower: candidate.lower - live.upper, upper: candidate.upper - live.lower };
}

/** candidate / live of positive quantities from one CS per arm (each at alpha/2). */
export function ratioOf(candidate: Bounds, live: Bounds): Bounds {
  return {
    lower: live.upper > 0 ? candidate.lower / live.upper : 0,
    upper: live.lower > 0 ? candidate.upper / live.lower : Number.POSITIVE_INFINITY,
  };
}

/**
 * The always-valid p-value of a family of CSs: the smallest alpha whose CS excludes
 * the null, found by bisection on ln alpha (exclusion is monotone in alpha: a smaller
 * alpha gives a wider interval). 1 when even alpha → 1 does not exclude it.
 */
export function sequentialPValue(excludes: (alpha: number) => boolean): number {
  const top = 1 - 1e-9;
  if (!excludes(top)) return 1;
  let lo = Math.log(1e-16); // ln alpha known small enough not to exclude, or the floor
  if (excludes(Math.exp(lo))) return 1e-16;
  let hi = Math.log(top);
  for (let i = 0; i < 50 && hi - lo > 1e-6; i++) {
    const mid = (lo + hi) / 2;
    if (excludes(Math.exp(mid))) hi = mid;
    else lo = mid;
  }
  return Math.exp(hi);
}
