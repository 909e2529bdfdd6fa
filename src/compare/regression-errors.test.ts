import { describe, expect, it } from 'vitest';
import type { CompareRows } from '../db/stats-queries.js';
import { meanSequence } from '../stats/confidence-sequence.js';
import { buildCompareReport } from './report.js';

const rowsWith = (valueErrors: CompareRows['valueErrors']): CompareRows => ({
  counts: [{ version: 'v1', label: null, status: 'ok', n: 5000 }],
  latencyBuckets: [],
  feedback: [],
  feedbackValues: [],
  predictedValues: [{ version: 'v1', n: 5000, mean: 200, p5: 100, p50: 200, p95: 300 }],
  valueErrors,
  splitChangedAt: null,
  splitRouted: [],
  shadowPairs: [],
});

describe("a regressor's MAE and RMSE in /compare", () => {
  it('gives always-valid intervals: the MAE sequence, and the MSE sequence through the square root', () => {
    // 5,000 errors with mean |e| 8, mean e² 100: both sequences stay above 0.
    const n = 5000;
    const report = buildCompareReport(
      rowsWith([
        {
          version: 'v1',
          n,
          mae: 8,
          mse: 100,
          absSquares: 36 * (n - 1),
          sqSquares: 20_000 * (n - 1),
        },
      ]),
      { model: 'price', since: 0, until: 1 },
      null,
      2,
    );
    const error = report.versions[0]?.error;
    const mae = meanSequence({ n, mean: 8, variance: 36 }, 0.05);
    const mse = meanSequence({ n, mean: 100, variance: 20_000 }, 0.05);
    expect(mse.lower).toBeGreaterThan(0);
    expect(error?.sequential.mae).toEqual({ low: mae.lower, high: mae.upper });
    expect(error?.sequential.rmse?.low).toBeCloseTo(Math.sqrt(mse.lower), 12);
    expect(error?.sequential.rmse?.high).toBeCloseTo(Math.sqrt(mse.upper), 12);
    expect(error?.rmse).toBe(10);
    expect(report.versions[0]?.task).toBe('regression');
  });

  it('has no intervals below two values', () => {
    const report = buildCompareReport(
      rowsWith([{ version: 'v1', n: 1, mae: 3, mse: 9, absSquares: 0, sqSquares: 0 }]),
      { model: 'price', since: 0, until: 1 },
      null,
      2,
    );
    expect(report.versions[0]?.error?.sequential).toEqual({ mae: null, rmse: null });
  });
});
