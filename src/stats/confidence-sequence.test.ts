import gammaln from '@stdlib/math-base-special-gammaln';
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../scripts/examples/prng.js';
import {
  bernoulliExcludes,
  bernoulliSequence,
  differenceAbove,
  differenceBelow,
  differenceOf,
  meanSequence,
  quantileSequence,
  ratioOf,
  sequentialPValue,
} from './confidence-sequence.js';
import { logGamma } from './log-gamma.js';

describe('bernoulliSequence (Robbins beta-binomial mixture)', () => {
  it('has its ends exactly where the mixture martingale reaches 1/alpha', () => {
    for (const [s, n] of [
      [1, 10],
      [9, 10],
      [450, 500],
      [5, 1000],
      [1, 1_000_000],
      [50_000, 100_000],
    ] as const) {
      const { lower, upper } = bernoulliSequence(s, n, 0.05);
      expect(lower).toBeLessThan(s / n);
      expect(upper).toBeGreaterThan(s / n);
      expect(bernoulliExcludes(s, n, lower * (1 - 1e-6), 0.05)).toBe(true);
      expect(bernoulliExcludes(s, n, lower * (1 + 1e-6), 0.05)).toBe(false);
      expect(bernoulliExcludes(s, n, upper * (1 + 1e-6), 0.05)).toBe(true);
      expect(bernoulliExcludes(s, n, upper * (1 - 1e-6), 0.05)).toBe(false);
    }
  });

  it('matches known values of the mixture with a Beta(½, ½) prior', () => {
    // 0 of n: h(p) = −n ln(1 − p) = ln(1/α) + ln B(½,½) − ln B(½, n + ½), a closed form.
    const n = 5;
    const c = Math.log(20) + Math.log(Math.PI) - (gammaln(0.5) + gammaln(n + 0.5) - gammaln(n + 1));
    const none = bernoulliSequence(0, n, 0.05);
    expect(none.lower).toBe(0);
    expect(none.upper).toBeCloseTo(-Math.expm1(-c / n), 14);
    expect(bernoulliSequence(0, 0, 0.05)).toEqual({ lower: 0, upper: 1 });
    const mid = bernoulliSequence(450, 500, 0.05);
    expect(mid.lower).toBeCloseTo(0.8456, 3);
    expect(mid.upper).toBeCloseTo(0.941, 3);
  });

  it('is wider than a fixed-horizon interval and narrows as n grows', () => {
    const small = bernoulliSequence(90, 100, 0.05);
    const large = bernoulliSequence(9000, 10_000, 0.05);
    expect(small.upper - small.lower).toBeGreaterThan(2 * 1.96 * Math.sqrt(0.09 / 100));
    expect(large.upper - large.lower).toBeLessThan(small.upper - small.lower);
  });

  it('covers the true rate at every n at once on at least 1 − alpha of 200 seeded paths', () => {
    const alpha = 0.1;
    for (const p of [0.9, 0.005]) {
      const random = createRandom(p === 0.9 ? 1 : 2);
      let missed = 0;
      for (let path = 0; path < 200; path++) {
        let s = 0;
        for (let n = 1; n <= 2000; n++) {
          if (random() < p) s += 1;
          const { lower, upper } = bernoulliSequence(s, n, alpha);
          if (p < lower || p > upper) {
            missed += 1;
            break;
          }
        }
      }
      // Ville's inequality bounds the miss rate by alpha = 20 of 200; the mixture is
      // conservative, so far fewer paths ever miss.
      expect(missed).toBeLessThanOrEqual(20);
    }
  });

  it('rejects counts that are not counts and alphas outside (0, 1)', () => {
    expect(() => bernoulliSequence(3, 2, 0.05)).toThrow(RangeError);
    expect(() => bernoulliSequence(1.5, 2, 0.05)).toThrow(RangeError);
    expect(() => bernoulliSequence(1, 2, 0)).toThrow(RangeError);
  });
});

describe('logGamma', () => {
  it('agrees with @stdlib gammaln to 1e-13 relative from 0.5 to 10⁷', () => {
    for (let x = 0.5; x < 1e7; x *= 1.07) {
      expect(Math.abs(logGamma(x) - gammaln(x))).toBeLessThan(
        1e-13 * Math.max(1, Math.abs(gammaln(x))),
      );
    }
  });
});

describe('meanSequence (asymptotic, Waudby-Smith et al. 2024)', () => {
  it('is the Robbins normal mixture: known width at its target n', () => {
    const { lower, upper } = meanSequence({ n: 1000, mean: 0, variance: 1 }, 0.05);
    expect(upper).toBeCloseTo(0.096, 3);
    expect(lower).toBeCloseTo(-upper, 12);
    const wide = meanSequence({ n: 0, mean: 0, variance: 0 }, 0.05);
    expect(wide.lower).toBe(Number.NEGATIVE_INFINITY);
  });

  it('covers the true mean at every n at once on at least 1 − alpha of 200 seeded normal paths', () => {
    const random = createRandom(3);
    const alpha = 0.1;
    let missed = 0;
    for (let path = 0; path < 200; path++) {
      let sum = 0;
      let sumSq = 0;
      for (let n = 1; n <= 2000; n++) {
        // Box–Muller: a standard normal outcome.
        const x = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
        sum += x;
        sumSq += x * x;
        if (n < 30) continue; // the burn-in the guards use (VALUE_BURN_IN)
        const mean = sum / n;
        const variance = (sumSq - n * mean * mean) / (n - 1);
        const { lower, upper } = meanSequence({ n, mean, variance }, alpha);
        if (lower > 0 || upper < 0) {
          missed += 1;
          break;
        }
      }
    }
    expect(missed).toBeLessThanOrEqual(20);
  });
});

describe('quantileSequence (Howard & Ramdas 2022)', () => {
  it('brackets the true 95th percentile and tightens with data', () => {
    // Latencies 1..100 ms uniformly: the true p95 is 95.
    const buckets = (perValue: number) =>
      Array.from({ length: 100 }, (_, i) => ({ upperEdge: i + 1, count: perValue }));
    const few = quantileSequence(buckets(2), 0.95, 0.05);
    const many = quantileSequence(buckets(200), 0.95, 0.05);
    expect(few.lower).toBeLessThan(95);
    expect(few.upper).toBeGreaterThanOrEqual(95);
    expect(many.lower).toBeGreaterThan(few.lower);
    expect(many.upper).toBeLessThanOrEqual(few.upper);
    expect(many.upper - many.lower).toBeLessThan(5);
    expect(quantileSequence([], 0.95, 0.05)).toEqual({ lower: 0, upper: Number.POSITIVE_INFINITY });
  });
});

describe('differenceAbove / differenceBelow (the guards decide with these)', () => {
  it('agree with the difference interval built from both arms at alpha/2, on 2,000 seeded cases', () => {
    const random = createRandom(5);
    const alpha = 0.01;
    for (let i = 0; i < 2000; i++) {
      const nc = Math.floor(random() * 400);
      const nl = Math.floor(random() * 4000);
      const pc = random();
      const candidate = { successes: Math.round(nc * pc), n: nc };
      const pl = Math.min(1, Math.max(0, pc + (random() - 0.5) * 0.3));
      const live = { successes: Math.round(nl * pl), n: nl };
      const interval = differenceOf(
        bernoulliSequence(candidate.successes, candidate.n, alpha / 2),
        bernoulliSequence(live.successes, live.n, alpha / 2),
      );
      const d = (random() - 0.5) * 0.4;
      expect(differenceAbove(candidate, live, d, alpha), `${i}`).toBe(interval.lower > d);
      expect(differenceBelow(candidate, live, d, alpha), `${i}`).toBe(interval.upper < d);
    }
  });
});

describe('differences, ratios and p-values', () => {
  it('combines one interval per arm', () => {
    expect(differenceOf({ lower: 0.8, upper: 0.9 }, { lower: 0.85, upper: 0.95 })).toEqual({
      lower: 0.8 - 0.95,
      upper: 0.9 - 0.85,
    });
    expect(ratioOf({ lower: 2, upper: 4 }, { lower: 1, upper: 2 })).toEqual({ lower: 1, upper: 4 });
    expect(ratioOf({ lower: 2, upper: 4 }, { lower: 0, upper: 2 }).upper).toBe(
      Number.POSITIVE_INFINITY,
    );
  });

  it('gives the smallest alpha whose sequence excludes the null', () => {
    const excludesHalf = (alpha: number) => bernoulliExcludes(70, 100, 0.5, alpha);
    const p = sequentialPValue(excludesHalf);
    expect(excludesHalf(p * 1.01)).toBe(true);
    expect(excludesHalf(p * 0.99)).toBe(false);
    expect(sequentialPValue((alpha) => bernoulliExcludes(50, 100, 0.5, alpha))).toBe(1);
  });
});
