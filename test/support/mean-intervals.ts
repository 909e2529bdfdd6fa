/**
 * A mean's 95 % intervals computed from the values themselves, written out independently of
 * src/ so tests can hold the gateway's aggregated figures to them.
 */

/** Two-sided 95 % normal quantile. */
const Z = 1.959963984540054;

/** Mean, sample variance (divisor n − 1) and the normal-approximation 95 % interval. */
export function normalMeanInterval(xs: readonly number[]) {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1);
  const half = Z * Math.sqrt(variance / xs.length);
  return { mean, variance, low: mean - half, high: mean + half };
}

/**
 * The 95 % asymptotic confidence sequence of a mean (Waudby-Smith et al. 2024, Theorem
 * 2.2, tuned for n = 1,000).
 */
export function asymptoticSequence(xs: readonly number[]) {
  const { mean, variance } = normalMeanInterval(xs);
  const la = -2 * Math.log(0.05);
  const rho2 = (la + Math.log(la + 1)) / 1000;
  const nr = xs.length * rho2 + 1;
  const half =
    Math.sqrt(variance) *
    Math.sqrt(((2 * nr) / (xs.length ** 2 * rho2)) * Math.log(Math.sqrt(nr) / 0.05));
  return { low: mean - half, high: mean + half };
}
