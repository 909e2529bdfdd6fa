import { describe, expect, it } from 'vitest';
import { createRandom } from '../../scripts/examples/prng.js';
import { present } from '../../test/support/responses.js';
import type { CompareRows } from '../db/stats-queries.js';
import { meanSequence } from '../stats/confidence-sequence.js';
import { formatCompareReport } from './format.js';
import { significant } from './number-format.js';
import { buildCompareReport, MIN_DIFFERING_PAIRS } from './report.js';
import { meanInterval } from './statistics.js';

type ShadowPair = CompareRows['shadowPairs'][number];

/** A regressor's pair row: no labels, and the storage's sums over `absolute` and `squared`. */
function pairOf(
  served: readonly number[],
  shadow: readonly number[],
  overrides: Partial<ShadowPair> = {},
): ShadowPair {
  const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
  const range = (xs: readonly number[]) => (xs.length ? Math.max(...xs) - Math.min(...xs) : 0);
  const absolute = served.map((e, i) => Math.abs(shadow[i] as number) - Math.abs(e));
  const squared = served.map((e, i) => (shadow[i] as number) ** 2 - e ** 2);
  return {
    served: 'v1',
    shadow: 'v2',
    pairs: 100,
    same: 0,
    labelled: 0,
    servedRight: 0,
    shadowRight: 0,
    servedOnly: 0,
    shadowOnly: 0,
    unlabelledPairs: 100,
    valued: served.length,
    servedAbsSum: sum(served.map(Math.abs)),
    servedSqSum: sum(served.map((e) => e * e)),
    absDiffSum: sum(absolute),
    absDiffSqSum: sum(absolute.map((d) => d * d)),
    absDiffRange: range(absolute),
    absDiffNonzero: absolute.filter((d) => d !== 0).length,
    sqDiffSum: sum(squared),
    sqDiffSqSum: sum(squared.map((d) => d * d)),
    sqDiffRange: range(squared),
    sqDiffNonzero: squared.filter((d) => d !== 0).length,
    ...overrides,
  };
}

const fullReportOf = (pair: ShadowPair) =>
  buildCompareReport(
    {
      counts: [{ version: 'v1', label: null, status: 'ok', n: 100 }],
      latencyBuckets: [],
      feedback: [],
      feedbackValues: [],
      predictedValues: [],
      valueErrors: [],
      splitChangedAt: null,
      splitRouted: [],
      shadowPairs: [pair],
    },
    { model: 'price', since: 0, until: 1 },
    null,
    2,
  );
const reportOf = (pair: ShadowPair) => fullReportOf(pair).shadow[0];

describe("a regressor's paired shadow errors in /compare", () => {
  it('gives shadow − served MAE and MSE differences with both intervals of the per-pair differences', () => {
    // Errors (predicted − true) of each version on the same five rows, eight times over:
    // 40 pairs, of which 32 differ.
    const times = <T>(xs: readonly T[]) => Array.from({ length: 8 }, () => xs).flat();
    const served = times([3, -4, 5, -2, 6]);
    const shadow = times([1, -3, 2, -2, 7]);
    const figures = reportOf(pairOf(served, shadow))?.pairedError;
    const absolute = times([-2, -1, -3, 0, 1]);
    const squared = times([-8, -7, -21, 0, 13]);
    const sample = (xs: number[]) => {
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1);
      return { n: xs.length, mean, variance };
    };
    const fixed = (xs: number[]) => {
      const i = meanInterval(sample(xs));
      return i && { low: i.low, high: i.high };
    };
    const sequence = (xs: number[]) => {
      const b = meanSequence(sample(xs), 0.05);
      return { low: b.lower, high: b.upper };
    };
    expect(figures).toMatchObject({
      n: 40,
      differing: { mae: 32, mse: 32 },
      servedMae: 4,
      shadowMae: 3,
      servedRmse: Math.sqrt(90 / 5),
      shadowRmse: Math.sqrt(67 / 5),
      maeDifference: -1,
      mseDifference: -23 / 5,
    });
    for (const [given, expected] of [
      [figures?.maeDifferenceInterval, fixed(absolute)],
      [figures?.mseDifferenceInterval, fixed(squared)],
      [figures?.sequential.maeDifference, sequence(absolute)],
      [figures?.sequential.mseDifference, sequence(squared)],
    ] as const) {
      expect(given?.low).toBeCloseTo(present(expected).low, 12);
      expect(given?.high).toBeCloseTo(present(expected).high, 12);
    }
  });

  it('is null without a pair that has a feedback value (a classifier, or no feedback yet)', () => {
    expect(reportOf(pairOf([], []))?.pairedError).toBeNull();
  });

  it('gives the estimates but no interval for one pair', () => {
    expect(reportOf(pairOf([3], [-1]))?.pairedError).toEqual({
      n: 1,
      differing: { mae: 1, mse: 1 },
      servedMae: 3,
      shadowMae: 1,
      servedRmse: 3,
      shadowRmse: 1,
      maeDifference: -2,
      mseDifference: -8,
      maeDifferenceInterval: null,
      mseDifferenceInterval: null,
      sequential: { maeDifference: null, mseDifference: null },
    });
  });

  it('gives no interval while every pair shows the same difference, though one-pass sums leave a hair of variance', () => {
    // |shadow| − |served| is 0.7 on all three; the squared differences vary.
    const served = [1, -2, 3];
    const shadow = [1.7, -2.7, 3.7];
    const pair = pairOf(served, shadow, {
      // 0.7 summed three ways: Σd² − (Σd)²/n is 1.1e-16 here, not 0.
      absDiffSum: 0.7 + 0.7 + 0.7,
      absDiffSqSum: 0.7 * 0.7 + 0.7 * 0.7 + 0.7 * 0.7,
      absDiffRange: 0,
    });
    const { absDiffSum: sum, absDiffSqSum: squares } = pair;
    expect((squares - (sum * sum) / 3) / 2).toBeGreaterThan(0);
    const figures = reportOf(pair)?.pairedError;
    expect(figures?.maeDifference).toBeCloseTo(0.7, 12);
    expect(figures?.sequential.maeDifference).toBeNull();
    // The squared differences spread: their sequence stands (the fixed interval waits for
    // MIN_DIFFERING_PAIRS differing pairs either way).
    expect(figures?.sequential.mseDifference).not.toBeNull();
    expect(figures?.maeDifferenceInterval).toBeNull();
  });

  it('gives no interval when a version is no better or worse on any pair (identical errors)', () => {
    const errors = [2, -1, 4, -3];
    const figures = reportOf(pairOf(errors, errors))?.pairedError;
    expect(figures).toMatchObject({ maeDifference: 0, mseDifference: 0 });
    expect(figures?.maeDifferenceInterval).toBeNull();
    expect(figures?.sequential).toEqual({ maeDifference: null, mseDifference: null });
  });
  it('gives no fixed-horizon interval until MIN_DIFFERING_PAIRS pairs differ, however many agree', () => {
    // 1,000 pairs: the first k one unit apart in either direction, the rest equally off.
    const figuresAt = (k: number) => {
      const served = Array.from({ length: 1000 }, (_, i) => (i < k ? 1 + (i % 2) : 1));
      const shadow = Array.from({ length: 1000 }, (_, i) => (i < k ? 2 - (i % 2) : 1));
      return present(reportOf(pairOf(served, shadow))?.pairedError);
    };
    const below = figuresAt(MIN_DIFFERING_PAIRS - 1);
    expect(below.differing).toEqual({ mae: MIN_DIFFERING_PAIRS - 1, mse: MIN_DIFFERING_PAIRS - 1 });
    expect(below.maeDifferenceInterval).toBeNull();
    expect(below.mseDifferenceInterval).toBeNull();
    // The confidence sequence is wider and stays: it includes 0 on so few pairs.
    expect(below.sequential.maeDifference).not.toBeNull();
    const at = figuresAt(MIN_DIFFERING_PAIRS);
    expect(at.differing).toEqual({ mae: MIN_DIFFERING_PAIRS, mse: MIN_DIFFERING_PAIRS });
    expect(at.maeDifferenceInterval).not.toBeNull();
    expect(at.mseDifferenceInterval).not.toBeNull();
  });

  it('npm run compare says why a difference has no fixed-horizon interval', () => {
    // 40 pairs, 4 of them differing: v2 one unit closer on each.
    const served = Array.from({ length: 40 }, (_, i) => (i < 4 ? 2 : 1));
    const shadow = new Array<number>(40).fill(1);
    const report = fullReportOf(pairOf(served, shadow));
    const e = present(report.shadow[0]?.pairedError);
    const sequence = present(e.sequential.maeDifference);
    const line = formatCompareReport(report)
      .split('\n')
      .find((l) => l.startsWith('  v2 − v1: '));
    expect(line).toContain(
      `MAE -0.1 (no fixed horizon CI: 4 rows differ, it needs ${MIN_DIFFERING_PAIRS}; ` +
        `always valid 95% CS ${significant(sequence.low)} to +${significant(sequence.high)})`,
    );
  });
});

/**
 * The null hypothesis as mirroring sees it: on each of k rows the two versions' errors are a
 * draw handed to served and shadow in random order, so neither is closer in truth; on the other
 * n − k rows both are equally off (d = 0). How often does the fixed-horizon interval exclude 0?
 */
describe("a regressor's paired shadow errors when neither version is closer", () => {
  const N = 1000;
  const RUNS = 2000;
  const random = createRandom(2024);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  /** Share of runs whose MAE (MSE) difference interval excludes 0, k rows of N differing. */
  const falsePositives = (k: number, draw: () => readonly [number, number]) => {
    let mae = 0;
    let mse = 0;
    for (let run = 0; run < RUNS; run++) {
      // One row where both are 1 off, then the k that differ.
      const served = [1];
      const shadow = [1];
      for (let i = 0; i < k; i++) {
        const [a, b] = draw();
        const swap = random() < 0.5;
        served.push(swap ? b : a);
        shadow.push(swap ? a : b);
      }
      // The other N − k − 1 rows like the first add to n and to the served error only.
      const agreeing = N - k - 1;
      const pair = pairOf(served, shadow);
      const figures = reportOf({
        ...pair,
        valued: pair.valued + agreeing,
        servedAbsSum: pair.servedAbsSum + agreeing,
        servedSqSum: pair.servedSqSum + agreeing,
      })?.pairedError;
      const excludesZero = (i: { low: number; high: number } | null | undefined) =>
        !!i && (i.low > 0 || i.high < 0);
      if (excludesZero(figures?.maeDifferenceInterval)) mae++;
      if (excludesZero(figures?.mseDifferenceInterval)) mse++;
    }
    return { mae: mae / RUNS, mse: mse / RUNS };
  };
  /** Errors of one size a version apart (a tree's leaves, integer targets): the worst case. */
  const oneSize = () => [1, 2] as const;
  /** Errors that vary from row to row. */
  const varying = () => [normal(), normal()] as const;
  const ks = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, i) => from + i);

  it('claims a difference at most 5 % of the time while few rows differ', () => {
    // Before MIN_DIFFERING_PAIRS the normal interval excluded 0 in 12.5 % of runs at k = 4
    // (all four one way: z = √4 = 2 > 1.96), 7 % at k = 8, 7.8 % at k = 21.
    for (const k of ks(2, MIN_DIFFERING_PAIRS - 1)) {
      for (const draw of [oneSize, varying]) {
        const rate = falsePositives(k, draw);
        expect({ k, ...rate }).toEqual({
          k,
          mae: expect.toSatisfy((r: number) => r <= 0.05),
          mse: expect.toSatisfy((r: number) => r <= 0.05),
        });
      }
    }
  });

  it('claims a difference about 5 % of the time from MIN_DIFFERING_PAIRS differing rows on', () => {
    const rates = { oneSize: [] as number[], varying: [] as number[] };
    for (const k of ks(MIN_DIFFERING_PAIRS, 60)) {
      rates.oneSize.push(falsePositives(k, oneSize).mae);
      rates.varying.push(falsePositives(k, varying).mae);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // One size: the binomial's steps (exactly 3.4–7.1 % for k = 30..60), 2,000 runs each.
    expect(Math.max(...rates.oneSize)).toBeLessThanOrEqual(0.085);
    expect(mean(rates.oneSize)).toBeLessThanOrEqual(0.055);
    expect(Math.max(...rates.varying)).toBeLessThanOrEqual(0.065);
    expect(mean(rates.varying)).toBeLessThanOrEqual(0.055);
  });
});
