/**
 * The Kolmogorov distribution's upper tail, Q(λ) = P(K > λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}
 * (Kolmogorov 1933), the limit of √n·D for the Kolmogorov–Smirnov statistic. The series
 * converges fast for λ ≥ 1; below that its terms barely shrink, so the equivalent Jacobi
 * form 1 − (√(2π)/λ) Σ_{k≥1} e^{−(2k−1)²π²/(8λ²)} is used, which converges fast there.
 */
export function kolmogorovSurvival(lambda: number): number {
  if (Number.isNaN(lambda)) throw new RangeError('kolmogorovSurvival: λ is NaN');
  if (lambda <= 0) return 1;
  if (lambda < 1) {
    const factor = (Math.PI * Math.PI) / (8 * lambda * lambda);
    let sum = 0;
    for (let k = 1; k <= 20; k++) sum += Math.exp(-(2 * k - 1) * (2 * k - 1) * factor);
    return 1 - (Math.sqrt(2 * Math.PI) / lambda) * sum;
  }
  let sum = 0;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * lambda * lambda);
    sum += k % 2 === 1 ? term : -term;
    if (term < 1e-300) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

/**
 * Two-sided p-value of the two-sample Kolmogorov–Smirnov statistic `d` for samples of
 * sizes n and m, by Smirnov's asymptotic distribution (Smirnov 1948): Q(√(nm/(n+m))·d),
 * as R's ks.test computes it with exact = FALSE. Good for the sizes drift is judged on
 * (hundreds of rows and up); conservative enough for ties, which only make D smaller.
 */
export function ksTwoSamplePValue(d: number, n: number, m: number): number {
  if (!(n > 0 && m > 0) || !(d >= 0 && d <= 1)) {
    throw new RangeError(
      `ksTwoSamplePValue: expected 0 ≤ d ≤ 1 and n, m > 0, got ${d}, ${n}, ${m}`,
    );
  }
  return kolmogorovSurvival(Math.sqrt((n * m) / (n + m)) * d);
}
