import { describe, expect, it } from 'vitest';
import { kolmogorovSurvival, ksTwoSamplePValue } from './kolmogorov.js';

describe('kolmogorovSurvival', () => {
  // scipy.special.kolmogorov (SciPy 1.17.1), on both sides of the switch at λ = 1.
  const scipy: Array<[number, number]> = [
    [0.3, 0.9999906941986655],
    [0.5, 0.9639452436648751],
    [0.8, 0.5441424115741981],
    [1.0, 0.26999967167735456],
    [1.2, 0.11224966667072497],
    [1.3581, 0.0499996304316674],
    [1.63, 0.009846364888486529],
    [2.0, 0.0006709252557796953],
    [3.0, 3.045995948942526e-8],
  ];
  for (const [lambda, expected] of scipy) {
    it(`Q(${lambda}) = ${expected}`, () => {
      expect(Math.abs(kolmogorovSurvival(lambda) - expected)).toBeLessThanOrEqual(
        1e-12 * expected + 1e-15,
      );
    });
  }

  it('is 1 at and below 0 and refuses NaN', () => {
    expect(kolmogorovSurvival(0)).toBe(1);
    expect(kolmogorovSurvival(-2)).toBe(1);
    expect(() => kolmogorovSurvival(Number.NaN)).toThrow(RangeError);
  });

  it('is 1 for a tiny λ, where the alternating series would not have converged in 100 terms', () => {
    // Jacobi form: 1 − (√(2π)/0.01)·e^(−π²/0.0008) = 1 to the last bit.
    expect(kolmogorovSurvival(0.01)).toBeCloseTo(1, 12);
  });
});

describe('ksTwoSamplePValue', () => {
  it('scales d by the effective sample size nm/(n+m)', () => {
    // SciPy 1.17.1: ks_2samp of two samples of 12 and 10 values gives D = 0.45;
    // scipy.special.kolmogorov(sqrt(12·10/22)·0.45) = 0.21931014741717372.
    expect(ksTwoSamplePValue(0.45, 12, 10)).toBeCloseTo(0.21931014741717372, 12);
  });

  it('refuses an impossible statistic or an empty sample', () => {
    expect(() => ksTwoSamplePValue(1.2, 10, 10)).toThrow(RangeError);
    expect(() => ksTwoSamplePValue(0.2, 0, 10)).toThrow(RangeError);
    expect(() => ksTwoSamplePValue(0.2, 10, 0)).toThrow(/expected 0 ≤ d ≤ 1 and n, m > 0/);
    // D = 1 (no overlap) is possible: λ² = 10·10/20 = 5, Q = 2(e^−10 − e^−40 + …).
    expect(ksTwoSamplePValue(1, 10, 10)).toBeCloseTo(2 * Math.exp(-10), 15);
  });
});
