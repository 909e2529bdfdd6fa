import { chiSquareSurvival } from '../compare/statistics.js';

/**
 * A share of 0 makes PSI infinite; such buckets count as this share instead (the usual
 * practice: a bucket empty on one side adds a large, finite term).
 */
export const PSI_EMPTY_SHARE = 1e-4;

/**
 * Population stability index Σ (current − baseline) · ln(current / baseline) over buckets
 * given as shares (each side sums to 1). 0 for identical mixes; the industry's reading
 * (Siddiqi 2006, "Credit Risk Scorecards") is < 0.1 stable, 0.1–0.2 a moderate shift,
 * > 0.2 a significant one. It is the symmetrised Kullback–Leibler divergence of the two
 * bucketed distributions, so it does not depend on the sample size the way a p-value does.
 */
export function populationStabilityIndex(
  baseline: readonly number[],
  current: readonly number[],
): number {
  if (baseline.length !== current.length) {
    throw new RangeError(`PSI: ${baseline.length} baseline buckets, ${current.length} current`);
  }
  let psi = 0;
  baseline.forEach((b, i) => {
    const expected = Math.max(b, PSI_EMPTY_SHARE);
    const actual = Math.max(current[i] as number, PSI_EMPTY_SHARE);
    psi += (actual - expected) * Math.log(actual / expected);
  });
  return psi;
}

export const sharesOf = (counts: readonly number[]): number[] => {
  const total = counts.reduce((sum, n) => sum + n, 0);
  return counts.map((n) => (total === 0 ? 0 : n / total));
};

export interface ChiSquareTest {
  statistic: number;
  degreesOfFreedom: number;
  pValue: number;
}

/**
 * Pearson's chi-square test that two samples come from one categorical distribution (the
 * 2 × k contingency table, no continuity correction, as scipy.stats.chi2_contingency with
 * correction=False). Categories empty in both are dropped; null when fewer than two
 * categories or an empty sample remain.
 */
export function chiSquareHomogeneity(
  a: readonly number[],
  b: readonly number[],
): ChiSquareTest | null {
  const columns = a.map((n, i) => [n, b[i] ?? 0] as const).filter(([x, y]) => x + y > 0);
  const totalA = columns.reduce((sum, [x]) => sum + x, 0);
  const totalB = columns.reduce((sum, [, y]) => sum + y, 0);
  const total = totalA + totalB;
  if (columns.length < 2 || totalA === 0 || totalB === 0) return null;
  let statistic = 0;
  for (const [x, y] of columns) {
    const expectedA = (totalA * (x + y)) / total;
    const expectedB = (totalB * (x + y)) / total;
    statistic += (x - expectedA) ** 2 / expectedA + (y - expectedB) ** 2 / expectedB;
  }
  const degreesOfFreedom = columns.length - 1;
  return { statistic, degreesOfFreedom, pValue: chiSquareSurvival(statistic, degreesOfFreedom) };
}
