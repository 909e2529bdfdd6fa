import { describe, expect, it } from 'vitest';
import { mcnemarExactPValue, pairedDifferenceInterval } from './mcnemar.js';

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

  it('stays finite for large counts', () => {
    const p = mcnemarExactPValue(5_000, 5_300);
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(0.01);
  });
});

describe('pairedDifferenceInterval', () => {
  it('is (c − b)/n ± 1.96·sqrt((b + c) − (c − b)²/n)/n, by hand', () => {
    // b = 10, c = 25, n = 200: d = 0.075, sd = sqrt(35 − 225/200)/200 = 0.029100...
    const interval = pairedDifferenceInterval(10, 25, 200);
    const sd = Math.sqrt(35 - 225 / 200) / 200;
    expect(interval?.estimate).toBeCloseTo(0.075, 14);
    expect(interval?.low).toBeCloseTo(0.075 - 1.959963984540054 * sd, 12);
    expect(interval?.high).toBeCloseTo(0.075 + 1.959963984540054 * sd, 12);
    expect(pairedDifferenceInterval(0, 0, 0)).toBeNull();
  });
});
