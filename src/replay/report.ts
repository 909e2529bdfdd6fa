/**
 * The replay report: how a candidate version answers the served rows of a window next to
 * the version that served them. Pure: rows go in one at a time (a tally, so memory holds
 * counts and histograms, never the rows), the report comes out; no I/O.
 */
import { type Interval, meanInterval } from '../compare/statistics.js';
import type { Task } from '../models/manifest.js';
import { mcnemarExactPValue, pairedDifferenceInterval } from '../stats/mcnemar.js';
import { addToHistogram, type Histogram, valueOfBin } from '../stats/value-bins.js';

/** What happened to one served row. */
export type ReplayRowOutcome =
  /** The served row was logged as an error: nothing to compare with. */
  | { kind: 'skipped' }
  /** The candidate could not answer it; `reason` is counted as given. */
  | { kind: 'failed'; reason: string }
  | {
      kind: 'ok';
      servedLabel: string | null;
      servedValue: number | null;
      candidateLabel: string | null;
      candidateValue: number | null;
      feedbackLabel: string | null;
      feedbackValue: number | null;
      latencyUs: number;
    };

export interface ConfusionMatrix {
  /** Row labels: what the served version answered. */
  served: string[];
  /** Column labels: what the candidate answered. */
  candidate: string[];
  /** counts[i][j]: rows served as served[i] that the candidate labelled candidate[j]. */
  counts: number[][];
}

export interface LabelAgreement {
  rows: number;
  agreed: number;
  rate: number | null;
  matrix: ConfusionMatrix;
}

export interface ValueDifference {
  rows: number;
  /** Mean of |candidate − served|. */
  meanAbsolute: number | null;
  /** Mean of |candidate − served| / |served| over the rows whose served value is not 0. */
  meanRelative: number | null;
  relativeRows: number;
  /** Quantiles of candidate − served (within 0.1 %: value bins, src/stats/value-bins.ts). */
  quantiles: { p5: number; p50: number; p95: number } | null;
}

/** Accuracy of both versions on the same rows with feedback, and McNemar's exact test. */
export interface LabelFeedback {
  rows: number;
  servedAccuracy: number | null;
  candidateAccuracy: number | null;
  /** Rows only the served version got right. */
  servedOnly: number;
  /** Rows only the candidate got right. */
  candidateOnly: number;
  /** McNemar's exact test (two-sided) of "equally accurate". */
  pValue: number;
  /** candidate − served accuracy, 95 % interval for dependent proportions. */
  difference: Interval | null;
}

export interface ErrorFigures {
  mae: number | null;
  rmse: number | null;
}

/** Errors of both versions on the same rows with a numeric feedback value. */
export interface ValueFeedback {
  rows: number;
  served: ErrorFigures;
  candidate: ErrorFigures;
  /** Mean of |candidate error| − |served error| per row, 95 % normal interval. */
  maeDifference: Interval | null;
  /** Mean of candidate² − served² errors per row (the MSE difference), 95 % interval. */
  mseDifference: Interval | null;
}

export interface ReplayReport {
  task: Task;
  rows: {
    /** Served rows read from the window. */
    read: number;
    /** Answered by the candidate. */
    replayed: number;
    /** The candidate could not answer (see failures). */
    failed: number;
    /** Served rows logged with an error status: not replayed. */
    skipped: number;
  };
  /** Failed rows counted by reason. */
  failures: Record<string, number>;
  /** Classifiers. */
  agreement: LabelAgreement | null;
  /** Regressors. */
  difference: ValueDifference | null;
  feedback: LabelFeedback | ValueFeedback | null;
  /** The candidate's time per row (its batch's time over its rows), µs. */
  latencyUs: { p50: number; p95: number; p99: number } | null;
}

interface Moments {
  n: number;
  mean: number;
  /** Sum of squared deviations (Welford). */
  m2: number;
}

export interface ReplayTally {
  readonly task: Task;
  readonly labels: readonly string[];
  read: number;
  replayed: number;
  skipped: number;
  failures: Map<string, number>;
  /** served label → candidate label → rows. */
  confusion: Map<string, Map<string, number>>;
  agreed: number;
  labelFeedback: {
    rows: number;
    servedRight: number;
    candidateRight: number;
    servedOnly: number;
    candidateOnly: number;
  };
  absoluteSum: number;
  relativeSum: number;
  relativeRows: number;
  valueRows: number;
  differences: Histogram;
  valueFeedback: {
    rows: number;
    servedAbs: number;
    servedSq: number;
    candidateAbs: number;
    candidateSq: number;
    absDiff: Moments;
    sqDiff: Moments;
  };
  latencies: Histogram;
}

const moments = (): Moments => ({ n: 0, mean: 0, m2: 0 });

function addMoment(m: Moments, x: number): void {
  m.n++;
  const delta = x - m.mean;
  m.mean += delta / m.n;
  m.m2 += delta * (x - m.mean);
}

const intervalOf = (m: Moments): Interval | null =>
  meanInterval({ n: m.n, mean: m.mean, variance: m.n > 1 ? m.m2 / (m.n - 1) : 0 });

/** `labels`: the candidate's classes in its model's order (empty for regressors). */
export function createReplayTally(task: Task, labels: readonly string[] = []): ReplayTally {
  return {
    task,
    labels,
    read: 0,
    replayed: 0,
    skipped: 0,
    failures: new Map(),
    confusion: new Map(),
    agreed: 0,
    labelFeedback: { rows: 0, servedRight: 0, candidateRight: 0, servedOnly: 0, candidateOnly: 0 },
    absoluteSum: 0,
    relativeSum: 0,
    relativeRows: 0,
    valueRows: 0,
    differences: new Map(),
    valueFeedback: {
      rows: 0,
      servedAbs: 0,
      servedSq: 0,
      candidateAbs: 0,
      candidateSq: 0,
      absDiff: moments(),
      sqDiff: moments(),
    },
    latencies: new Map(),
  };
}

export function addOutcome(tally: ReplayTally, outcome: ReplayRowOutcome): void {
  tally.read++;
  if (outcome.kind === 'skipped') {
    tally.skipped++;
    return;
  }
  if (outcome.kind === 'failed') {
    tally.failures.set(outcome.reason, (tally.failures.get(outcome.reason) ?? 0) + 1);
    return;
  }
  tally.replayed++;
  addToHistogram(tally.latencies, outcome.latencyUs);
  if (tally.task === 'classification') addLabels(tally, outcome);
  else addValues(tally, outcome);
}

function addLabels(tally: ReplayTally, row: Extract<ReplayRowOutcome, { kind: 'ok' }>): void {
  const served = row.servedLabel ?? '(none)';
  const candidate = row.candidateLabel ?? '(none)';
  const byCandidate = tally.confusion.get(served) ?? new Map<string, number>();
  byCandidate.set(candidate, (byCandidate.get(candidate) ?? 0) + 1);
  tally.confusion.set(served, byCandidate);
  if (served === candidate) tally.agreed++;
  if (row.feedbackLabel === null) return;
  const f = tally.labelFeedback;
  const servedRight = row.servedLabel === row.feedbackLabel;
  const candidateRight = row.candidateLabel === row.feedbackLabel;
  f.rows++;
  if (servedRight) f.servedRight++;
  if (candidateRight) f.candidateRight++;
  if (servedRight && !candidateRight) f.servedOnly++;
  if (candidateRight && !servedRight) f.candidateOnly++;
}

function addValues(tally: ReplayTally, row: Extract<ReplayRowOutcome, { kind: 'ok' }>): void {
  const served = row.servedValue;
  const candidate = row.candidateValue;
  if (served === null || candidate === null) return;
  const difference = candidate - served;
  tally.valueRows++;
  tally.absoluteSum += Math.abs(difference);
  if (served !== 0) {
    tally.relativeSum += Math.abs(difference) / Math.abs(served);
    tally.relativeRows++;
  }
  addToHistogram(tally.differences, difference);
  if (row.feedbackValue === null) return;
  const f = tally.valueFeedback;
  const servedError = served - row.feedbackValue;
  const candidateError = candidate - row.feedbackValue;
  f.rows++;
  f.servedAbs += Math.abs(servedError);
  f.servedSq += servedError ** 2;
  f.candidateAbs += Math.abs(candidateError);
  f.candidateSq += candidateError ** 2;
  addMoment(f.absDiff, Math.abs(candidateError) - Math.abs(servedError));
  addMoment(f.sqDiff, candidateError ** 2 - servedError ** 2);
}

/**
 * The q-quantile of a histogram of value bins: the smallest bin whose cumulative count
 * reaches q of the total (the inverse of the empirical CDF). Null when empty.
 */
export function histogramQuantile(histogram: Histogram, q: number): number | null {
  const keys = [...histogram.keys()].sort((a, b) => a - b);
  let total = 0;
  for (const n of histogram.values()) total += n;
  if (total === 0) return null;
  const target = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const key of keys) {
    seen += histogram.get(key) as number;
    if (seen >= target) return valueOfBin(key);
  }
  return valueOfBin(keys[keys.length - 1] as number);
}

const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);

/** The candidate's labels in its model's order, then any other label seen, sorted. */
function orderLabels(known: readonly string[], seen: Iterable<string>): string[] {
  const extra = [...new Set(seen)].filter((label) => !known.includes(label)).sort();
  return [...known, ...extra];
}

function agreementOf(tally: ReplayTally): LabelAgreement {
  const candidateSeen = [...tally.confusion.values()].flatMap((m) => [...m.keys()]);
  const served = orderLabels(
    tally.labels.filter((l) => tally.confusion.has(l)),
    tally.confusion.keys(),
  );
  const candidate = orderLabels(tally.labels, candidateSeen);
  const counts = served.map((s) => candidate.map((c) => tally.confusion.get(s)?.get(c) ?? 0));
  return {
    rows: tally.replayed,
    agreed: tally.agreed,
    rate: ratio(tally.agreed, tally.replayed),
    matrix: { served, candidate, counts },
  };
}

function labelFeedbackOf(tally: ReplayTally): LabelFeedback | null {
  const f = tally.labelFeedback;
  if (f.rows === 0) return null;
  // Summed once: the interval needs the same p.
  const pValue = mcnemarExactPValue(f.servedOnly, f.candidateOnly);
  return {
    rows: f.rows,
    servedAccuracy: ratio(f.servedRight, f.rows),
    candidateAccuracy: ratio(f.candidateRight, f.rows),
    servedOnly: f.servedOnly,
    candidateOnly: f.candidateOnly,
    pValue,
    difference: pairedDifferenceInterval(f.servedOnly, f.candidateOnly, f.rows, 0.95, pValue),
  };
}

function differenceOf(tally: ReplayTally): ValueDifference {
  const q = (p: number) => histogramQuantile(tally.differences, p) as number;
  return {
    rows: tally.valueRows,
    meanAbsolute: ratio(tally.absoluteSum, tally.valueRows),
    meanRelative: ratio(tally.relativeSum, tally.relativeRows),
    relativeRows: tally.relativeRows,
    quantiles: tally.valueRows === 0 ? null : { p5: q(0.05), p50: q(0.5), p95: q(0.95) },
  };
}

function valueFeedbackOf(tally: ReplayTally): ValueFeedback | null {
  const f = tally.valueFeedback;
  if (f.rows === 0) return null;
  return {
    rows: f.rows,
    served: { mae: f.servedAbs / f.rows, rmse: Math.sqrt(f.servedSq / f.rows) },
    candidate: { mae: f.candidateAbs / f.rows, rmse: Math.sqrt(f.candidateSq / f.rows) },
    maeDifference: intervalOf(f.absDiff),
    mseDifference: intervalOf(f.sqDiff),
  };
}

export function replayReport(tally: ReplayTally): ReplayReport {
  const failed = [...tally.failures.values()].reduce((a, b) => a + b, 0);
  const classifier = tally.task === 'classification';
  const latency = (q: number) => histogramQuantile(tally.latencies, q) as number;
  return {
    task: tally.task,
    rows: { read: tally.read, replayed: tally.replayed, failed, skipped: tally.skipped },
    failures: Object.fromEntries([...tally.failures].sort((a, b) => b[1] - a[1])),
    agreement: classifier ? agreementOf(tally) : null,
    difference: classifier ? null : differenceOf(tally),
    feedback: classifier ? labelFeedbackOf(tally) : valueFeedbackOf(tally),
    latencyUs:
      tally.replayed === 0 ? null : { p50: latency(0.5), p95: latency(0.95), p99: latency(0.99) },
  };
}
