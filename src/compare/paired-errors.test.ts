import { describe, expect, it } from 'vitest';
import { present } from '../../test/support/responses.js';
import type { CompareRows } from '../db/stats-queries.js';
import { meanSequence } from '../stats/confidence-sequence.js';
import { buildCompareReport } from './report.js';
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
    regressorPairs: 100,
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

const reportOf = (pair: ShadowPair) =>
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
  ).shadow[0];

describe("a regressor's paired shadow errors in /compare", () => {
  it('gives shadow − served MAE and MSE differences with both intervals of the per-pair differences', () => {
    // Errors (predicted − true) of each version on the same five requests.
    const served = [3, -4, 5, -2, 6];
    const shadow = [1, -3, 2, -2, 7];
    const figures = reportOf(pairOf(served, shadow))?.pairedError;
    const absolute = [-2, -1, -3, 0, 1];
    const squared = [-8, -7, -21, 0, 13];
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
      n: 5,
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
    expect(figures?.maeDifferenceInterval).toBeNull();
    expect(figures?.sequential.maeDifference).toBeNull();
    expect(figures?.mseDifferenceInterval).not.toBeNull();
    expect(figures?.sequential.mseDifference).not.toBeNull();
  });

  it('gives no interval when a version is no better or worse on any pair (identical errors)', () => {
    const errors = [2, -1, 4, -3];
    const figures = reportOf(pairOf(errors, errors))?.pairedError;
    expect(figures).toMatchObject({ maeDifference: 0, mseDifference: 0 });
    expect(figures?.maeDifferenceInterval).toBeNull();
    expect(figures?.sequential).toEqual({ maeDifference: null, mseDifference: null });
  });
});
