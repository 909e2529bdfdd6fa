import { describe, expect, it } from 'vitest';
import { logGamma } from './log-gamma.js';

describe('logGamma', () => {
  // scipy.special.gammaln (SciPy 1.17.1), across the shift at 10 and far beyond it.
  const scipy: Array<[number, number]> = [
    [0.05, 2.968879201051731],
    [0.5, 0.5723649429247],
    [3.7, 1.428072326665388],
    [10, 12.801827480081469],
    [10.5, 13.940625219403763],
    [99.5, 356.83538282361303],
    [1000, 5905.220423209181],
    [123456.75, 1323901.5615730141],
    [1e9, 19723265827.503716],
  ];
  for (const [x, expected] of scipy) {
    it(`ln Γ(${x}) = ${expected}`, () => {
      expect(Math.abs(logGamma(x) - expected)).toBeLessThanOrEqual(1e-13 * Math.max(1, expected));
    });
  }

  it('gives ln((n − 1)!) at whole numbers and rejects x ≤ 0', () => {
    let factorial = 1;
    for (let n = 1; n <= 25; n++) {
      expect(logGamma(n)).toBeCloseTo(Math.log(factorial), 12);
      factorial *= n;
    }
    expect(() => logGamma(0)).toThrow(RangeError);
    expect(() => logGamma(-1.5)).toThrow(RangeError);
    expect(() => logGamma(Number.NaN)).toThrow(RangeError);
  });
});
