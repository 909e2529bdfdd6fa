import { describe, expect, it } from 'vitest';
import {
  addOutcome,
  createReplayTally,
  histogramQuantile,
  type ReplayRowOutcome,
  replayReport,
} from './report.js';

const labelRow = (
  servedLabel: string,
  candidateLabel: string,
  feedbackLabel: string | null = null,
  latencyUs = 10,
): ReplayRowOutcome => ({
  kind: 'ok',
  servedLabel,
  servedValue: null,
  candidateLabel,
  candidateValue: null,
  feedbackLabel,
  feedbackValue: null,
  latencyUs,
});

const valueRow = (
  servedValue: number,
  candidateValue: number,
  feedbackValue: number | null = null,
): ReplayRowOutcome => ({
  kind: 'ok',
  servedLabel: null,
  servedValue,
  candidateLabel: null,
  candidateValue,
  feedbackLabel: null,
  feedbackValue,
  latencyUs: 5,
});

describe('replay report: classifiers', () => {
  it('counts agreement and a served × candidate confusion matrix in the model’s label order', () => {
    const tally = createReplayTally('classification', ['a', 'b', 'c']);
    for (const [s, c, n] of [
      ['a', 'a', 5],
      ['a', 'b', 2],
      ['b', 'b', 4],
      ['c', 'a', 1],
      ['c', 'c', 3],
    ] as const) {
      for (let i = 0; i < n; i++) addOutcome(tally, labelRow(s, c));
    }
    const report = replayReport(tally);
    expect(report.rows).toEqual({ read: 15, replayed: 15, failed: 0, skipped: 0 });
    expect(report.agreement).toEqual({
      rows: 15,
      agreed: 12,
      rate: 12 / 15,
      matrix: {
        served: ['a', 'b', 'c'],
        candidate: ['a', 'b', 'c'],
        counts: [
          [5, 2, 0],
          [0, 4, 0],
          [1, 0, 3],
        ],
      },
    });
    expect(report.difference).toBeNull();
    expect(report.feedback).toBeNull();
  });

  it('puts labels the candidate does not have after its own, sorted', () => {
    const tally = createReplayTally('classification', ['x', 'y']);
    addOutcome(tally, labelRow('old2', 'y'));
    addOutcome(tally, labelRow('old1', 'x'));
    addOutcome(tally, labelRow('y', 'y'));
    const { matrix } = replayReport(tally).agreement ?? { matrix: null };
    expect(matrix).toEqual({
      served: ['y', 'old1', 'old2'],
      candidate: ['x', 'y'],
      counts: [
        [0, 1],
        [1, 0],
        [0, 1],
      ],
    });
  });

  it('McNemar on the rows with feedback: only-served and only-candidate right, both accuracies', () => {
    const tally = createReplayTally('classification', ['a', 'b']);
    // both right 6, only served 1, only candidate 7, neither 2, no feedback 4.
    const rows: Array<[string, string, string | null, number]> = [
      ['a', 'a', 'a', 6],
      ['a', 'b', 'a', 1],
      ['b', 'a', 'a', 7],
      ['b', 'b', 'a', 2],
      ['a', 'b', null, 4],
    ];
    for (const [s, c, f, n] of rows)
      for (let i = 0; i < n; i++) addOutcome(tally, labelRow(s, c, f));
    const report = replayReport(tally);
    expect(report.feedback).toMatchObject({
      rows: 16,
      servedAccuracy: 7 / 16,
      candidateAccuracy: 13 / 16,
      servedOnly: 1,
      candidateOnly: 7,
    });
    // scipy.stats.binomtest(1, 8, 0.5).pvalue = 0.0703125 (exactly 2·9/256).
    expect((report.feedback as { pValue: number }).pValue).toBeCloseTo(0.0703125, 12);
    const difference = (
      report.feedback as { difference: { estimate: number; low: number; high: number } }
    ).difference;
    expect(difference.estimate).toBeCloseTo(6 / 16, 12);
    // Not significant, so the interval holds 0: python3 scripts/reference/paired-interval.py 1 7 16.
    expect(difference.low).toBeCloseTo(-0.02650967087520656, 12);
    expect(difference.high).toBeCloseTo(0.4968402764687481, 12);
  });

  it('counts failures by reason (most frequent first) and skipped rows apart from failures', () => {
    const tally = createReplayTally('classification', ['a']);
    const failed = (reason: string): ReplayRowOutcome => ({ kind: 'failed', reason });
    addOutcome(tally, failed('x: missing feature'));
    addOutcome(tally, failed('boom'));
    addOutcome(tally, failed('boom'));
    addOutcome(tally, { kind: 'skipped' });
    addOutcome(tally, labelRow('a', 'a'));
    const report = replayReport(tally);
    expect(report.rows).toEqual({ read: 5, replayed: 1, failed: 3, skipped: 1 });
    expect(Object.entries(report.failures)).toEqual([
      ['boom', 2],
      ['x: missing feature', 1],
    ]);
    expect(report.agreement?.rate).toBe(1);
  });

  it('has no rates and no latency when nothing was replayed', () => {
    const report = replayReport(createReplayTally('classification', ['a']));
    expect(report.agreement?.rate).toBeNull();
    expect(report.latencyUs).toBeNull();
    expect(report.feedback).toBeNull();
  });
});

describe('replay report: regressors', () => {
  it('mean absolute and relative difference, and quantiles of candidate − served', () => {
    const tally = createReplayTally('regression');
    // differences 1..100 on served values of 10 (relative |d| / 10), one served 0.
    for (let d = 1; d <= 100; d++) addOutcome(tally, valueRow(10, 10 + d));
    addOutcome(tally, valueRow(0, 4));
    const report = replayReport(tally);
    const difference = report.difference;
    expect(difference?.rows).toBe(101);
    expect(difference?.meanAbsolute).toBeCloseTo((5050 + 4) / 101, 12);
    expect(difference?.relativeRows).toBe(100);
    expect(difference?.meanRelative).toBeCloseTo(5050 / 10 / 100, 12);
    // The 101 differences sorted: 1, 2, 3, 4, 4, 5, … 100 (whole numbers keep their own
    // bin). The 6th (ceil(0.05·101)) is 5, the 51st is 50, the 96th is 95.
    expect(difference?.quantiles).toEqual({ p5: 5, p50: 50, p95: 95 });
    expect(report.agreement).toBeNull();
  });

  it('MAE and RMSE of both on the same rows with feedback, with paired intervals', () => {
    const tally = createReplayTally('regression');
    // truth 0; served errs by 2, candidate by 1 on half and 3 on the other half.
    const truthRows: Array<[number, number]> = [
      [2, 1],
      [2, 3],
      [-2, 1],
      [2, -3],
    ];
    for (const [s, c] of truthRows) addOutcome(tally, valueRow(s, c, 0));
    addOutcome(tally, valueRow(5, 5));
    const report = replayReport(tally);
    const feedback = report.feedback as {
      rows: number;
      served: { mae: number; rmse: number };
      candidate: { mae: number; rmse: number };
      maeDifference: { estimate: number; low: number; high: number };
      mseDifference: { estimate: number; low: number; high: number };
    };
    expect(feedback.rows).toBe(4);
    expect(feedback.served).toEqual({ mae: 2, rmse: 2 });
    expect(feedback.candidate.mae).toBe(2);
    expect(feedback.candidate.rmse).toBeCloseTo(Math.sqrt(5), 12);
    // per-row |c| − |s|: −1, 1, −1, 1 → mean 0, sd √(4/3); ± 1.96·sd/2.
    const half = 1.959963984540054 * Math.sqrt(4 / 3 / 4);
    expect(feedback.maeDifference.estimate).toBeCloseTo(0, 12);
    expect(feedback.maeDifference.high).toBeCloseTo(half, 9);
    // per-row c² − s²: −3, 5, −3, 5 → mean 1.
    expect(feedback.mseDifference.estimate).toBeCloseTo(1, 12);
  });
});

describe('replay report: regressor errors against the feedback value', () => {
  it('measures each error from the fed-back value, and leaves out rows missing a prediction', () => {
    const tally = createReplayTally('regression');
    // truth 10: served 12 and 7 (errors +2, −3), candidate 9 and 11 (errors −1, +1).
    addOutcome(tally, valueRow(12, 9, 10));
    addOutcome(tally, valueRow(7, 11, 10));
    const missing = (
      servedValue: number | null,
      candidateValue: number | null,
    ): ReplayRowOutcome => ({
      kind: 'ok',
      servedLabel: null,
      servedValue,
      candidateLabel: null,
      candidateValue,
      feedbackLabel: null,
      feedbackValue: 10,
      latencyUs: 5,
    });
    addOutcome(tally, missing(1, null));
    addOutcome(tally, missing(null, 1));
    const report = replayReport(tally);
    expect(report.feedback).toMatchObject({
      rows: 2,
      served: { mae: 2.5, rmse: Math.sqrt(6.5) },
      candidate: { mae: 1, rmse: 1 },
      maeDifference: { estimate: -1.5 },
      mseDifference: { estimate: -5.5 },
    });
    expect(report.difference).toMatchObject({ rows: 2, meanAbsolute: 3.5 });
    // Every replayed row has a latency, with or without values.
    expect(report.rows.replayed).toBe(4);
    expect(report.latencyUs).toEqual({ p50: 5, p95: 5, p99: 5 });
  });

  it('has no quantiles, feedback or latencies before a row is replayed', () => {
    const report = replayReport(createReplayTally('regression'));
    expect(report.difference).toMatchObject({ rows: 0, quantiles: null });
    expect(report.feedback).toBeNull();
    expect(report.latencyUs).toBeNull();
  });
});

describe('histogramQuantile', () => {
  it('is the inverse empirical CDF: smallest value whose cumulative share reaches q', () => {
    const h = new Map<number, number>();
    const tally = createReplayTally('regression');
    for (const v of [3, 1, 2, 4]) addOutcome(tally, valueRow(0, v));
    expect(histogramQuantile(tally.differences, 0.25)).toBe(1);
    expect(histogramQuantile(tally.differences, 0.26)).toBe(2);
    expect(histogramQuantile(tally.differences, 1)).toBe(4);
    expect(histogramQuantile(h, 0.5)).toBeNull();
  });
});
