import { describe, expect, it } from 'vitest';
import {
  binomialUpperTail,
  mcnemarExactPValue,
  mcnemarSmallerTail,
  pairedDifferenceInterval,
} from './mcnemar.js';

describe('mcnemarExactPValue', () => {
  // scipy.stats.binomtest(k, n, 0.5).pvalue (SciPy 1.17.1).
  it('equals the two-sided exact binomial test at ½', () => {
    expect(mcnemarExactPValue(3, 12)).toBeCloseTo(0.03515625, 14);
    expect(mcnemarExactPValue(12, 3)).toBeCloseTo(0.03515625, 14);
    expect(mcnemarExactPValue(10, 20)).toBeCloseTo(0.09873714670538905, 14);
    expect(mcnemarExactPValue(0, 5)).toBeCloseTo(0.0625, 14);
    expect(mcnemarExactPValue(10, 0)).toBeCloseTo(2 / 1024, 14);
  });

  it('is 1 with no disagreement or an even one, and refuses what is not a count', () => {
    expect(mcnemarExactPValue(0, 0)).toBe(1);
    expect(mcnemarExactPValue(7, 7)).toBe(1);
    expect(() => mcnemarExactPValue(-1, 3)).toThrow(RangeError);
    expect(() => mcnemarExactPValue(1.5, 3)).toThrow(RangeError);
  });

  // /compare and replay run it on the event loop: its cost must not grow with the count.
  // scipy.stats.binomtest(b, b + c, 0.5).pvalue (SciPy 1.17.1) at ten million pairs.
  it('is exact at ten million discordant pairs from some ten thousand terms, not millions', () => {
    for (const [b, c, p] of [
      [4_996_000, 5_004_000, 0.011422321641171199],
      [4_999_999, 5_000_001, 0.9997476867541075],
      [4_990_000, 5_010_000, 2.5448004911550766e-10],
    ] as const) {
      expect(mcnemarExactPValue(b, c) / p, `${b}, ${c}`).toBeCloseTo(1, 7);
      // Summed from the largest term down with an early stop: about 8.5 sd of Bin(10⁷, ½).
      expect(mcnemarSmallerTail(b, c).terms, `${b}, ${c}`).toBeLessThan(15_000);
    }
    expect(mcnemarExactPValue(4_000_000, 6_000_000)).toBe(0);
    // Far in the tail the terms fall off geometrically: a handful suffice.
    expect(mcnemarSmallerTail(4_000_000, 6_000_000).terms).toBeLessThan(100);
  });

  it('stays exact for large counts, where the tail stops early', () => {
    // Exact rationals: python3 -c 'from fractions import Fraction as F; from math import comb;
    //   b, c = 5000, 5300; print(float(2 * F(sum(comb(b + c, i) for i in range(b + 1)), 2**(b + c))))'
    expect(mcnemarExactPValue(5_000, 5_300) / 0.003215819673645239).toBeCloseTo(1, 11);
    expect(mcnemarExactPValue(500, 560) / 0.06990955946026933).toBeCloseTo(1, 12);
  });
});

/** P(X ≥ k), X ~ Bin(d, θ), term by term in plain floating point: independent of the log-space sum. */
function plainUpperTail(k: number, d: number, theta: number): number {
  let sum = 0;
  let choose = 1; // C(d, i), built up multiplicatively
  for (let i = 0; i <= d; i++) {
    if (i >= k) sum += choose * theta ** i * (1 - theta) ** (d - i);
    choose = (choose * (d - i)) / (i + 1);
  }
  return sum;
}

describe('binomialUpperTail', () => {
  it('matches the plain sum on both sides of the mean, and is 1 / 0 outside 1–d', () => {
    for (const [k, d, theta] of [
      [3, 10, 0.2],
      [1, 10, 0.2],
      [9, 10, 0.2],
      [20, 35, 0.5],
      [30, 80, 0.4],
    ] as const) {
      expect(binomialUpperTail(k, d, theta)).toBeCloseTo(plainUpperTail(k, d, theta), 13);
    }
    expect(binomialUpperTail(0, 10, 0.3)).toBe(1);
    expect(binomialUpperTail(11, 10, 0.3)).toBe(0);
  });
});

describe('pairedDifferenceInterval', () => {
  // Reference figures: python3 scripts/reference/paired-interval.py FIRST SECOND N (exact
  // rational arithmetic, standard library only). For 0 of 5 the lower end is also
  // closed-form: θ = 0.025^(1/5), so low = (2·0.025^(1/5) − 1)·5/150.
  it('is Clopper–Pearson for θ = c/(b + c) mapped to (2θ − 1)(b + c)/n', () => {
    const cases = [
      [0, 5, 150, 0.03333333333333333, -0.0014549166736654339, 0.03333333333333333],
      [10, 25, 150, 0.1, 0.017245832541270635, 0.16503445220310567],
      [1, 7, 16, 0.375, -0.02650967087520656, 0.4968402764687481],
      [3, 12, 100, 0.09, 0.005732659857944065, 0.13700639846824902],
      [40, 0, 40, -1, -1, -0.8238053942423952],
    ] as const;
    for (const [b, c, n, estimate, low, high] of cases) {
      const interval = pairedDifferenceInterval(b, c, n);
      expect(interval?.estimate).toBeCloseTo(estimate, 14);
      expect(interval?.low).toBeCloseTo(low, 12);
      expect(interval?.high).toBeCloseTo(high, 12);
    }
    expect(pairedDifferenceInterval(0, 5, 150)?.low).toBeCloseTo(
      ((2 * 0.025 ** (1 / 5) - 1) * 5) / 150,
      14,
    );
  });

  it('excludes 0 exactly when McNemar’s exact p < 0.05, for every b, c ≤ 40', () => {
    let significant = 0;
    for (let b = 0; b <= 40; b++) {
      for (let c = 0; c <= 40; c++) {
        const n = b + c + 17; // concordant pairs only rescale the difference
        const interval = pairedDifferenceInterval(b, c, n);
        if (!interval) throw new Error('no interval');
        const excludesZero = interval.low > 0 || interval.high < 0;
        const p = mcnemarExactPValue(b, c);
        expect(excludesZero, `b = ${b}, c = ${c}, p = ${p}`).toBe(p < 0.05);
        if (p < 0.05) significant++;
        expect(interval.low).toBeLessThanOrEqual(interval.estimate);
        expect(interval.high).toBeGreaterThanOrEqual(interval.estimate);
        // Each end is a real Clopper–Pearson end, not just on the side the test picked:
        // the binomial tail there (summed independently) is alpha / 2.
        const d = b + c;
        if (c > 0) {
          const theta = (interval.low * n) / d / 2 + 0.5;
          expect(plainUpperTail(c, d, theta), `low end, b = ${b}, c = ${c}`).toBeCloseTo(0.025, 9);
        }
        if (b > 0) {
          const theta = (interval.high * n) / d / 2 + 0.5;
          expect(plainUpperTail(b, d, 1 - theta), `high end, b = ${b}, c = ${c}`).toBeCloseTo(
            0.025,
            9,
          );
        }
      }
    }
    // Both verdicts occur in the grid (so the check above is not vacuous).
    expect(significant).toBeGreaterThan(500);
    expect(significant).toBeLessThan(41 * 41 - 200);
  });

  // Given d = 0 the conditional interval is [0, 0], which reads as certainty; n agreeing
  // pairs bound the discordance rate, and |difference| by it: Clopper–Pearson's upper end
  // for 0 of 10, 1 − 0.025^(1/10) (scipy.stats.beta.ppf(0.975, 1, 10)).
  it('is ± the discordance bound with no discordant pair, null without pairs, and refuses a bad level', () => {
    const none = pairedDifferenceInterval(0, 0, 10);
    expect(none?.estimate).toBe(0);
    expect(none?.high).toBeCloseTo(0.3084971078187608, 14);
    expect(none?.low).toBeCloseTo(-0.3084971078187608, 14);
    expect(pairedDifferenceInterval(0, 0, 1000)?.high).toBeCloseTo(1 - 0.025 ** (1 / 1000), 14);
    expect(pairedDifferenceInterval(0, 0, 0)).toBeNull();
    expect(() => pairedDifferenceInterval(1, 2, 10, 1)).toThrow(RangeError);
    expect(() => pairedDifferenceInterval(6, 6, 10)).toThrow(RangeError);
  });

  it('is narrower at a lower level and stays finite for large counts', () => {
    const wide = pairedDifferenceInterval(10, 25, 150, 0.99);
    const narrow = pairedDifferenceInterval(10, 25, 150, 0.9);
    expect(wide && narrow && wide.high - wide.low > narrow.high - narrow.low).toBe(true);
    // Clopper–Pearson via scipy.stats.beta.ppf at ten million discordant of twenty million.
    const huge = pairedDifferenceInterval(4_996_000, 5_004_000, 20_000_000);
    expect(huge?.low).toBeCloseTo(0.00009005250474136695, 9);
    expect(huge?.high).toBeCloseTo(0.0007099472636646897, 9);
    const big = pairedDifferenceInterval(50_000, 53_000, 1_000_000);
    expect(big?.low).toBeGreaterThan(0);
    expect(big?.high).toBeLessThan(0.006);
  });
});
