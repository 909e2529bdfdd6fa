import { describe, expect, it } from 'vitest';
import {
  LATENCY_MAX_RELATIVE_ERROR,
  latencyBucketOf,
  latencyOfBucket,
} from '../db/latency-buckets.js';
import {
  chiSquareSurvival,
  newcombeInterval,
  percentilesFromBuckets,
  SRM_THRESHOLD,
  sampleRatioMismatch,
  twoProportionZTest,
  wilsonInterval,
} from './statistics.js';

// Reference values not from a printed source were computed with SciPy 1.17.1
// (scipy.stats.binomtest(...).proportion_ci(method='wilson'), chi2.sf, norm.sf,
// chi2_contingency(correction=False)).

describe('wilsonInterval', () => {
  // Newcombe RG (1998), "Two-sided confidence intervals for the single proportion:
  // comparison of seven methods", Statistics in Medicine 17:857–872, Table I, method 3.
  const newcombe: Array<[number, number, number, number]> = [
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ];
  for (const [successes, n, low, high] of newcombe) {
    it(`${successes}/${n} → ${low}–${high} (Newcombe 1998)`, () => {
      const interval = wilsonInterval(successes, n);
      expect(interval?.estimate).toBeCloseTo(successes / n, 10);
      expect(interval?.low).toBeCloseTo(low, 4);
      expect(interval?.high).toBeCloseTo(high, 4);
    });
  }

  it('honours the confidence level (SciPy proportion_ci, method wilson)', () => {
    const at99 = wilsonInterval(81, 263, 0.99);
    expect(at99?.low).toBeCloseTo(0.2401369027, 8);
    expect(at99?.high).toBeCloseTo(0.3852825023, 8);
    const at90 = wilsonInterval(9, 10, 0.9);
    expect(at90?.low).toBeCloseTo(0.6522813327, 8);
    expect(at90?.high).toBeCloseTo(0.9773650913, 8);
  });

  it('stays inside [0, 1] at the edges: 29/29 → 0.8830–1 (SciPy)', () => {
    const all = wilsonInterval(29, 29);
    expect(all?.low).toBeCloseTo(0.8830302015, 8);
    expect(all?.high).toBe(1);
    expect(wilsonInterval(0, 20)?.low).toBe(0);
  });

  it('is null without observations and rejects impossible input', () => {
    expect(wilsonInterval(0, 0)).toBeNull();
    expect(() => wilsonInterval(11, 10)).toThrow(RangeError);
    expect(() => wilsonInterval(-1, 10)).toThrow(RangeError);
    expect(() => wilsonInterval(Number.NaN, 10)).toThrow(RangeError);
    expect(() => wilsonInterval(1, 10, 1)).toThrow(RangeError);
    expect(() => wilsonInterval(1, 10, 95)).toThrow(RangeError);
  });
});

describe('twoProportionZTest', () => {
  it('matches a hand computation: 45/100 vs 60/100', () => {
    // pooled p = 105/200 = 0.525; SE = sqrt(0.525 · 0.475 · (1/100 + 1/100)) = 0.070622
    // z = 0.15 / 0.070622 = 2.12398; two-sided p = 2 · (1 − Φ(2.12398)) = 0.03367
    // The interval is Newcombe's (SciPy Wilson bounds combined by hand): 0.0117–0.2804.
    const test = twoProportionZTest(45, 100, 60, 100);
    expect(test?.difference).toBeCloseTo(0.15, 10);
    expect(test?.z).toBeCloseTo(2.12398, 4);
    expect(test?.pValue).toBeCloseTo(0.03367, 4);
    expect(test?.low).toBeCloseTo(0.0117239353, 8);
    expect(test?.high).toBeCloseTo(0.280448521, 8);
  });

  it('matches the Physicians’ Health Study example (Agresti)', () => {
    // Agresti, An Introduction to Categorical Data Analysis (2nd ed., 2007), §2.2:
    // myocardial infarction in 189 of 11,034 on placebo and 104 of 11,037 on aspirin;
    // difference 0.0077 with SE 0.0015, 95 % CI (0.005, 0.011) for placebo − aspirin.
    // Here p2 − p1 = aspirin − placebo, so the signs flip; with this many events the
    // Newcombe interval agrees with Agresti's Wald one to the third decimal. z² is
    // Pearson's X² of the 2×2 table: 25.0139, p = 5.6919e-7 (SciPy chi2_contingency,
    // correction=False).
    const test = twoProportionZTest(189, 11034, 104, 11037);
    expect(test?.difference).toBeCloseTo(-0.0077, 4);
    expect(test?.low).toBeCloseTo(-0.011, 3);
    expect(test?.high).toBeCloseTo(-0.005, 3);
    expect((test?.z ?? 0) ** 2).toBeCloseTo(25.0139, 3);
    expect(test?.z).toBeLessThan(0);
    expect((test?.pValue ?? 0) / 5.691897e-7).toBeCloseTo(1, 5);
  });

  it('keeps precision far in the tail: 100/10,000 vs 900/10,000', () => {
    // z = 0.08 / sqrt(0.05 · 0.95 · 2/10,000) = 25.9554; 2·Q(z) = 1.5790723e-148 (SciPy).
    // 2 · (1 − Φ(z)) would round to 0.
    const test = twoProportionZTest(100, 10000, 900, 10000);
    expect(test?.z).toBeCloseTo(25.955427, 5);
    expect((test?.pValue ?? 0) / 1.5790722727677e-148).toBeCloseTo(1, 8);
  });

  it('is symmetric: swapping the versions flips the sign, keeps p', () => {
    const ab = twoProportionZTest(45, 100, 60, 100);
    const ba = twoProportionZTest(60, 100, 45, 100);
    expect(ba?.difference).toBeCloseTo(-(ab?.difference ?? 0), 10);
    expect(ba?.z).toBeCloseTo(-(ab?.z ?? 0), 10);
    expect(ba?.pValue).toBeCloseTo(ab?.pValue ?? 0, 10);
  });

  it('tests and sizes a difference between 0/10 and 10/10', () => {
    // pooled 0.5: z = 1 / sqrt(0.25 · 0.2) = 4.4721, p = 7.7442e-6 (SciPy). The Wald
    // interval collapsed to the point 1 here; Newcombe's is 0.6075–1 (Newcombe 1998, (h)).
    const test = twoProportionZTest(0, 10, 10, 10);
    expect(test?.z).toBeCloseTo(4.472136, 6);
    expect((test?.pValue ?? 0) / 7.744216431e-6).toBeCloseTo(1, 6);
    expect(test?.low).toBeCloseTo(0.6075, 4);
    expect(test?.high).toBe(1);
  });

  it('gives p = 1 for equal proportions and null when there is nothing to test', () => {
    expect(twoProportionZTest(30, 100, 30, 100)?.pValue).toBeCloseTo(1, 12);
    expect(twoProportionZTest(0, 0, 5, 10)).toBeNull();
    expect(twoProportionZTest(5, 10, 0, 0)).toBeNull();
    expect(twoProportionZTest(10, 10, 20, 20)).toBeNull();
    expect(twoProportionZTest(0, 10, 0, 20)).toBeNull();
    expect(() => twoProportionZTest(11, 10, 5, 10)).toThrow(RangeError);
  });
});

describe('newcombeInterval', () => {
  // Newcombe RG (1998), "Interval estimation for the difference between independent
  // proportions: comparison of eleven methods", Statistics in Medicine 17:873–890,
  // Table II, method 10, for p1 − p2; here the arguments are (s2, n2, s1, n1) so that
  // newcombeInterval's p2 − p1 is Newcombe's p1 − p2. Every row also agrees to 1e-8
  // with SciPy 1.17.1's Wilson bounds combined by the formula (e.g. (a): 0.0524314724).
  const table: Array<[string, [number, number, number, number], number, number]> = [
    ['(a) 56/70 − 48/80', [48, 80, 56, 70], 0.0524, 0.3339],
    ['(b) 9/10 − 3/10', [3, 10, 9, 10], 0.1705, 0.809],
    ['(d) 5/56 − 0/29', [0, 29, 5, 56], -0.0381, 0.1926],
    ['(e) 0/10 − 0/20', [0, 20, 0, 10], -0.1611, 0.2775],
    ['(f) 0/10 − 0/10', [0, 10, 0, 10], -0.2775, 0.2775],
    ['(g) 10/10 − 0/20', [0, 20, 10, 10], 0.6791, 1],
    ['(h) 10/10 − 0/10', [0, 10, 10, 10], 0.6075, 1],
  ];
  for (const [name, [s1, n1, s2, n2], low, high] of table) {
    it(`${name} → ${low} to ${high}`, () => {
      const interval = newcombeInterval(s1, n1, s2, n2);
      expect(interval?.estimate).toBeCloseTo(s2 / n2 - s1 / n1, 12);
      expect(interval?.low).toBeCloseTo(low, 4);
      expect(interval?.high).toBeCloseTo(high, 4);
    });
  }

  it('keeps the uncertainty of the arm at 100 %: 10/10 against 128/191', () => {
    // The CLI printed "+26.3 to +39.7 points" here (Wald: the 10/10 arm has SE 0). Wilson
    // for 10/10 reaches down to 72.2 %, so the difference may be as small as 4.5 points.
    // SciPy Wilson bounds combined: 0.0453054695 to 0.3992989180.
    const interval = newcombeInterval(128, 191, 10, 10);
    expect(interval?.estimate).toBeCloseTo(10 / 10 - 128 / 191, 12);
    expect(interval?.low).toBeCloseTo(0.0453054695, 8);
    expect(interval?.high).toBeCloseTo(0.399298918, 8);
    expect(twoProportionZTest(128, 191, 10, 10)?.low).toBeCloseTo(0.0453054695, 8);
  });

  it('honours the confidence level and is null without observations', () => {
    // 45/100 vs 60/100 at 99 %: −0.0308988447 to 0.3177329699 (SciPy Wilson bounds).
    const at99 = newcombeInterval(45, 100, 60, 100, 0.99);
    expect(at99?.low).toBeCloseTo(-0.0308988447, 8);
    expect(at99?.high).toBeCloseTo(0.3177329699, 8);
    expect(newcombeInterval(0, 0, 5, 10)).toBeNull();
    expect(() => newcombeInterval(11, 10, 5, 10)).toThrow(RangeError);
  });
});

describe('chiSquareSurvival', () => {
  // Critical values from a standard chi-square table (e.g. NIST/SEMATECH e-Handbook of
  // Statistical Methods, §1.3.6.7.4): they are quoted to 3 decimals, so p agrees to ~2e-5.
  const table: Array<[number, number, number]> = [
    [3.841, 1, 0.05],
    [6.635, 1, 0.01],
    [10.828, 1, 0.001],
    [5.991, 2, 0.05],
    [13.816, 2, 0.001],
    [18.307, 10, 0.05],
  ];
  for (const [x, df, p] of table) {
    it(`χ²(${df}) = ${x} → p = ${p}`, () => {
      expect(chiSquareSurvival(x, df)).toBeCloseTo(p, 4);
    });
  }

  it('has closed forms for 1 and 2 degrees of freedom, far into the tail', () => {
    // df = 2: P(X > x) = e^(−x/2). df = 1: P(X > 100) = 2·Q(10) = 1.5239706e-23 (SciPy).
    expect(chiSquareSurvival(7.2, 2)).toBeCloseTo(Math.exp(-3.6), 12);
    expect(chiSquareSurvival(100, 1) / 1.5239706048321e-23).toBeCloseTo(1, 8);
    expect(chiSquareSurvival(0, 3)).toBe(1);
    expect(() => chiSquareSurvival(1, 0)).toThrow(RangeError);
  });
});

describe('sampleRatioMismatch', () => {
  it('matches chi-square table values', () => {
    // 5050 vs 4950 against 50/50: chi² = 2 · 50² / 5000 = 1.0; P(χ²₁ > 1) = 0.3173
    const balanced = sampleRatioMismatch({ v1: 5050, v2: 4950 }, { v1: 50, v2: 50 });
    expect(balanced?.chiSquare).toBeCloseTo(1, 10);
    expect(balanced?.degreesOfFreedom).toBe(1);
    expect(balanced?.pValue).toBeCloseTo(0.3173, 4);
    expect(balanced?.mismatch).toBe(false);
    expect(balanced?.unexpected).toEqual([]);
  });

  it('flags at p < 0.001: either side of χ²₁ = 10.828 (table)', () => {
    // 50/50 of 10,000 off by d: chi² = 4d²/10,000. d = 165 → 10.89 (p = 0.000967);
    // d = 164 → 10.7584 (p = 0.001038) (SciPy chi2.sf).
    const over = sampleRatioMismatch({ v1: 5165, v2: 4835 }, { v1: 1, v2: 1 });
    expect(over?.chiSquare).toBeCloseTo(10.89, 10);
    expect(over?.pValue).toBeCloseTo(0.000967, 6);
    expect(over?.mismatch).toBe(true);
    const under = sampleRatioMismatch({ v1: 5164, v2: 4836 }, { v1: 1, v2: 1 });
    expect(under?.pValue).toBeCloseTo(0.001038, 6);
    expect(under?.mismatch).toBe(false);
    expect(over?.threshold).toBe(SRM_THRESHOLD);
  });

  it('uses k − 1 degrees of freedom: either side of χ²₂ = 13.816 (table)', () => {
    // expected 1000 each. 1048/1048/904: (48² + 48² + 96²)/1000 = 13.824 → p = e^(−6.912);
    // 1047/1047/906: (47² + 47² + 94²)/1000 = 13.254 → p = e^(−6.627).
    const over = sampleRatioMismatch({ a: 1048, b: 1048, c: 904 }, { a: 1, b: 1, c: 1 });
    expect(over?.degreesOfFreedom).toBe(2);
    expect(over?.chiSquare).toBeCloseTo(13.824, 10);
    expect(over?.pValue).toBeCloseTo(Math.exp(-6.912), 12);
    expect(over?.mismatch).toBe(true);
    const under = sampleRatioMismatch({ a: 1047, b: 1047, c: 906 }, { a: 1, b: 1, c: 1 });
    expect(under?.pValue).toBeCloseTo(Math.exp(-6.627), 12);
    expect(under?.mismatch).toBe(false);
  });

  it('normalizes the shares and reports tiny p-values: 9,300 / 700 against 90/10', () => {
    // expected 9000 / 1000: chi² = 300²/9000 + 300²/1000 = 10 + 90 = 100; p = 1.5239706e-23
    for (const shares of [
      { v1: 90, v2: 10 },
      { v1: 0.9, v2: 0.1 },
      { v1: 900, v2: 100 },
    ]) {
      const off = sampleRatioMismatch({ v1: 9300, v2: 700 }, shares);
      expect(off?.chiSquare).toBeCloseTo(100, 8);
      expect((off?.pValue ?? 0) / 1.5239706048321e-23).toBeCloseTo(1, 6);
      expect(off?.mismatch).toBe(true);
    }
  });

  it('treats traffic to a version outside the split as a mismatch (p = 0)', () => {
    // Total 21 against 1:1 over v1, v2: expected 10.5 each, chi² = 2 · 0.5² / 10.5.
    const zeroShare = sampleRatioMismatch({ v1: 10, v2: 10, v3: 1 }, { v1: 1, v2: 1, v3: 0 });
    expect(zeroShare).toMatchObject({ pValue: 0, mismatch: true, unexpected: ['v3'] });
    expect(zeroShare?.chiSquare).toBeCloseTo(0.5 / 10.5, 12);
    expect(zeroShare?.degreesOfFreedom).toBe(2);
    const absent = sampleRatioMismatch({ v1: 5, v2: 5, v9: 1 }, { v1: 1, v2: 1 });
    expect(absent).toMatchObject({ pValue: 0, mismatch: true, unexpected: ['v9'] });
    const oneVersionSplit = sampleRatioMismatch({ v1: 10, v2: 1 }, { v1: 1, v2: 0 });
    expect(oneVersionSplit).toMatchObject({ degreesOfFreedom: 1, mismatch: true });
  });

  it('ignores a share of 0 that got no traffic', () => {
    const test = sampleRatioMismatch({ v1: 5050, v2: 4950, v3: 0 }, { v1: 1, v2: 1, v3: 0 });
    expect(test?.degreesOfFreedom).toBe(1);
    expect(test?.pValue).toBeCloseTo(0.3173, 4);
  });

  it('is null with no traffic or fewer than two versions, and rejects bad numbers', () => {
    expect(sampleRatioMismatch({ v1: 10 }, { v1: 100 })).toBeNull();
    expect(sampleRatioMismatch({}, { v1: 1, v2: 1 })).toBeNull();
    expect(sampleRatioMismatch({ v1: 0, v2: 0 }, { v1: 1, v2: 1 })).toBeNull();
    expect(sampleRatioMismatch({ v1: 3, v2: 4 }, { v1: 0, v2: 0 })).toBeNull();
    expect(() => sampleRatioMismatch({ v1: 3, v2: 4 }, { v1: -1, v2: 2 })).toThrow(RangeError);
    expect(() => sampleRatioMismatch({ v1: -3, v2: 4 }, { v1: 1, v2: 2 })).toThrow(RangeError);
  });
});

describe('latency buckets', () => {
  it('maps every latency to a value within the stated relative error', () => {
    // Bound 2^(1/64) − 1 = 0.0108893; checked on every integer microsecond up to 200 ms.
    expect(LATENCY_MAX_RELATIVE_ERROR).toBeCloseTo(0.0108893, 7);
    let worst = 0;
    for (let us = 1; us <= 200_000; us++) {
      worst = Math.max(worst, Math.abs(latencyOfBucket(latencyBucketOf(us)) - us) / us);
    }
    expect(worst).toBeLessThanOrEqual(LATENCY_MAX_RELATIVE_ERROR);
    expect(worst).toBeGreaterThan(0.99 * LATENCY_MAX_RELATIVE_ERROR);
  });

  it('is monotonic and puts powers of two on bucket values', () => {
    expect(latencyBucketOf(1024)).toBe(320);
    expect(latencyOfBucket(320)).toBe(1024);
    expect(latencyBucketOf(0)).toBe(0);
    expect(latencyBucketOf(1)).toBe(0);
    expect(latencyBucketOf(10_000_000)).toBe(744);
    const decreasing: number[] = [];
    for (let us = 1; us <= 100_000; us++) {
      if (latencyBucketOf(us + 1) < latencyBucketOf(us)) decreasing.push(us);
    }
    expect(decreasing).toEqual([]);
  });
});

/** Counts per bucket, as the SQL GROUP BY returns them. */
function histogram(latencies: readonly number[]): Array<{ bucket: number; count: number }> {
  const counts = new Map<number, number>();
  for (const us of latencies) {
    const bucket = latencyBucketOf(us);
    counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
  }
  return [...counts].map(([bucket, count]) => ({ bucket, count }));
}

/** Exact nearest-rank percentile (Hyndman & Fan 1996, definition 1). */
const nearestRank = (sorted: readonly number[], p: number) =>
  sorted[Math.max(1, Math.ceil((p * sorted.length) / 100)) - 1] as number;

describe('percentilesFromBuckets', () => {
  it('stays within the bound of the exact nearest-rank percentile on heavy-tailed data', () => {
    // 20,000 log-uniform latencies from 50 µs to 10 s (deterministic LCG, Numerical Recipes).
    let state = 12345;
    const latencies = Array.from({ length: 20_000 }, () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return Math.round(50 * (10_000_000 / 50) ** (state / 2 ** 32));
    });
    const sorted = [...latencies].sort((a, b) => a - b);
    const ps = [...Array.from({ length: 201 }, (_, i) => i / 2), 99.9, 99.99];
    const estimates = percentilesFromBuckets(histogram(latencies), ps);
    ps.forEach((p, i) => {
      const exact = nearestRank(sorted, p);
      const error = Math.abs((estimates[i] as number) - exact) / exact;
      expect(error, `p${p}: ${estimates[i]} vs ${exact}`).toBeLessThanOrEqual(
        LATENCY_MAX_RELATIVE_ERROR,
      );
    });
  });

  it('takes the ⌈p·N/100⌉-th value: p14 of 1…100 is 14, not 15', () => {
    // 0.14 · 100 = 14.000000000000002 in floating point; ceil must still give rank 14.
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    const [p14, p57, p0, p100] = percentilesFromBuckets(histogram(values), [14, 57, 0, 100]);
    expect(p14).toBe(latencyOfBucket(latencyBucketOf(14)));
    expect(p57).toBe(latencyOfBucket(latencyBucketOf(57)));
    expect(p0).toBe(latencyOfBucket(latencyBucketOf(1)));
    expect(p100).toBe(latencyOfBucket(latencyBucketOf(100)));
  });

  it('accepts buckets in any order and skips empty ones', () => {
    const buckets = [
      { bucket: 320, count: 1 }, // 1024 µs
      { bucket: 64, count: 3 }, // 4 µs
      { bucket: 96, count: 0 },
    ];
    expect(percentilesFromBuckets(buckets, [50, 75, 76, 100])).toEqual([4, 4, 1024, 1024]);
  });

  it('is null without counts and rejects percentiles outside 0–100', () => {
    expect(percentilesFromBuckets([], [50, 99])).toEqual([null, null]);
    expect(percentilesFromBuckets([{ bucket: 10, count: 0 }], [50])).toEqual([null]);
    expect(() => percentilesFromBuckets([{ bucket: 10, count: 1 }], [101])).toThrow(RangeError);
    expect(() => percentilesFromBuckets([{ bucket: 10, count: 1 }], [-1])).toThrow(RangeError);
  });
});
