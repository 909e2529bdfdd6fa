import { describe, expect, it } from 'vitest';
import {
  chiSquareHomogeneity,
  PSI_EMPTY_SHARE,
  populationStabilityIndex,
  sharesOf,
} from './drift-measures.js';

describe('populationStabilityIndex', () => {
  it('is 0 for one mix and the sum of (a − b)·ln(a / b) otherwise', () => {
    expect(populationStabilityIndex([0.25, 0.25, 0.5], [0.25, 0.25, 0.5])).toBe(0);
    // By hand: (0.2 − 0.1)·ln 2 + (0.3 − 0.4)·ln 0.75 + 0 = 0.0693147 + 0.0287682.
    expect(populationStabilityIndex([0.1, 0.4, 0.5], [0.2, 0.3, 0.5])).toBeCloseTo(
      0.1 * Math.log(2) - 0.1 * Math.log(0.75),
      12,
    );
  });

  it('treats an empty bucket as a share of 1e-4, not as an infinite shift', () => {
    const psi = populationStabilityIndex([0.5, 0.5], [1, 0]);
    expect(psi).toBeCloseTo(
      0.5 * Math.log(1 / 0.5) + (PSI_EMPTY_SHARE - 0.5) * Math.log(PSI_EMPTY_SHARE / 0.5),
      12,
    );
  });

  it('gives 0.2377 (SciPy: 0.2377492) for deciles of N(0, 1) against N(0.5, 1), as the normal CDF says', () => {
    // Shares of N(0.5, 1) in the deciles of N(0, 1), from scipy.stats.norm.cdf (SciPy 1.17.1).
    const shifted = [0.0374, 0.0524, 0.063, 0.0728, 0.0829, 0.0941, 0.1071, 0.1239, 0.1491, 0.2172];
    const baseline = Array(10).fill(0.1);
    expect(populationStabilityIndex(baseline, shifted)).toBeCloseTo(0.2377, 2);
  });

  it('refuses buckets that do not line up', () => {
    expect(() => populationStabilityIndex([1], [0.5, 0.5])).toThrow(RangeError);
  });
});

describe('chiSquareHomogeneity', () => {
  it('matches scipy.stats.chi2_contingency(correction=False)', () => {
    // SciPy 1.17.1: [[30, 40, 30], [20, 50, 30]] → 3.1111111111111107, p 0.21107208779109024, df 2.
    const a = chiSquareHomogeneity([30, 40, 30], [20, 50, 30]);
    expect(a?.statistic).toBeCloseTo(3.1111111111111107, 12);
    expect(a?.pValue).toBeCloseTo(0.21107208779109024, 12);
    expect(a?.degreesOfFreedom).toBe(2);
    // [[100, 0, 50], [80, 10, 60]] → 13.131313131313131, p 0.0014078992690737368.
    const b = chiSquareHomogeneity([100, 0, 50], [80, 10, 60]);
    expect(b?.statistic).toBeCloseTo(13.131313131313131, 12);
    expect(b?.pValue).toBeCloseTo(0.0014078992690737368, 14);
  });

  it('drops categories empty on both sides and is null with nothing to compare', () => {
    expect(chiSquareHomogeneity([30, 0, 40, 30], [20, 0, 50, 30])?.degreesOfFreedom).toBe(2);
    expect(chiSquareHomogeneity([10, 0], [5, 0])).toBeNull();
    expect(chiSquareHomogeneity([0, 0], [5, 5])).toBeNull();
  });

  it('shares sum to one', () => {
    expect(sharesOf([1, 3])).toEqual([0.25, 0.75]);
    expect(sharesOf([0, 0])).toEqual([0, 0]);
  });
});
