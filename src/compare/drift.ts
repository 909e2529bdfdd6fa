/**
 * Drift of a version's traffic against a baseline, from streamed counts (drift-scan.ts):
 * pure, no I/O. Numeric features: PSI over the baseline's deciles and the two-sample
 * Kolmogorov–Smirnov test; the prediction: a classifier's label mix by PSI over labels and
 * Pearson's chi-square test of homogeneity, a regressor's predicted value like a numeric
 * feature (PSI and KS). A feature or prediction is flagged when its PSI passes
 * the threshold (0.2 by default: the usual "significant shift"). PSI, not the p-value,
 * decides, because on a million rows a shift too small to matter is still "significant".
 */

import {
  type ChiSquareTest,
  chiSquareHomogeneity,
  populationStabilityIndex,
  sharesOf,
} from '../stats/drift-measures.js';
import { ksTwoSamplePValue } from '../stats/kolmogorov.js';
import { binOf, type Histogram, histogramTotal, valueOfBin } from '../stats/value-bins.js';

export const DEFAULT_PSI_THRESHOLD = 0.2;

export interface KsTest {
  /** The largest gap between the two empirical CDFs. */
  statistic: number;
  pValue: number;
}

export interface NumericDrift {
  psi: number;
  /** The baseline's deciles (bin values, within 0.1 %) the PSI buckets are cut at; ties merged. */
  deciles: number[];
  ks: KsTest;
}

export interface FeatureDrift extends NumericDrift {
  feature: string;
  /** Values in the window (rows that carry the feature). */
  rows: number;
  baselineRows: number;
  flagged: boolean;
}

/** The prediction's drift: a classifier's label mix, or a regressor's predicted value. */
export type PredictionDrift =
  | {
      kind: 'label';
      rows: number;
      baselineRows: number;
      psi: number;
      chiSquare: ChiSquareTest | null;
      flagged: boolean;
    }
  | ({ kind: 'value'; rows: number; baselineRows: number; flagged: boolean } & NumericDrift);

/**
 * Training statistics of one feature, from model.json `featureStats`: the row count and
 * quantiles evenly spaced from 0 to 1 inclusive (11 for deciles, 101 for percentiles).
 */
export interface TrainingFeatureStats {
  n: number;
  quantiles: number[];
}

/** Sorted bin keys with their counts. */
function sortedBins(histogram: Histogram): Array<[number, number]> {
  return [...histogram.entries()].sort((a, b) => a[0] - b[0]);
}

/** The bin keys at the baseline's 10 %, 20 %, … 90 % (the first bin whose cumulative count reaches it). */
function decileKeys(bins: Array<[number, number]>, total: number): number[] {
  const edges: number[] = [];
  let cumulative = 0;
  let decile = 1;
  for (const [key, count] of bins) {
    cumulative += count;
    while (decile <= 9 && cumulative >= (decile * total) / 10) {
      if (edges[edges.length - 1] !== key) edges.push(key);
      decile++;
    }
  }
  return edges;
}

/** Counts per bucket: bucket i holds keys ≤ edges[i] and > edges[i − 1]; the last, keys above all. */
function bucketCounts(bins: Array<[number, number]>, edges: readonly number[]): number[] {
  const counts: number[] = new Array(edges.length + 1).fill(0);
  let bucket = 0;
  for (const [key, count] of bins) {
    while (bucket < edges.length && key > (edges[bucket] as number)) bucket++;
    counts[bucket] = (counts[bucket] as number) + count;
  }
  return counts;
}

/** Two samples' largest CDF gap, walking both sorted bin lists together. */
function ksStatistic(
  a: Array<[number, number]>,
  totalA: number,
  b: Array<[number, number]>,
  totalB: number,
): number {
  let i = 0;
  let j = 0;
  let cumA = 0;
  let cumB = 0;
  let d = 0;
  while (i < a.length || j < b.length) {
    const keyA = i < a.length ? (a[i] as [number, number])[0] : Number.POSITIVE_INFINITY;
    const keyB = j < b.length ? (b[j] as [number, number])[0] : Number.POSITIVE_INFINITY;
    const key = Math.min(keyA, keyB);
    if (keyA === key) cumA += (a[i++] as [number, number])[1];
    if (keyB === key) cumB += (b[j++] as [number, number])[1];
    d = Math.max(d, Math.abs(cumA / totalA - cumB / totalB));
  }
  return d;
}

/** Current against a baseline sample, both non-empty. */
export function numericDrift(baseline: Histogram, current: Histogram): NumericDrift {
  const baseBins = sortedBins(baseline);
  const currentBins = sortedBins(current);
  const baseTotal = histogramTotal(baseline);
  const currentTotal = histogramTotal(current);
  const edges = decileKeys(baseBins, baseTotal);
  const psi = populationStabilityIndex(
    sharesOf(bucketCounts(baseBins, edges)),
    sharesOf(bucketCounts(currentBins, edges)),
  );
  const statistic = ksStatistic(baseBins, baseTotal, currentBins, currentTotal);
  return {
    psi,
    deciles: edges.map(valueOfBin),
    ks: { statistic, pValue: ksTwoSamplePValue(statistic, baseTotal, currentTotal) },
  };
}

/**
 * Current against training statistics. PSI buckets are cut at the training deciles
 * (each 10 % of the training rows); the KS statistic is the largest gap at the given
 * quantiles, a lower bound within 1 / (quantiles − 1) of the exact one (1 % with
 * percentiles), tested as a two-sample KS with the training n.
 */
export function trainingDrift(stats: TrainingFeatureStats, current: Histogram): NumericDrift {
  const steps = stats.quantiles.length - 1;
  const interior = stats.quantiles
    .slice(1, -1)
    .map((q, i) => ({ key: binOf(q), level: (i + 1) / steps }));
  const currentBins = sortedBins(current);
  const currentTotal = histogramTotal(current);
  // Each training decile closes a bucket of 10 % of the rows; equal deciles share one.
  const edges: number[] = [];
  const baseShares: number[] = [];
  for (let decile = 1; decile <= 9; decile++) {
    const key = binOf(stats.quantiles[(decile * steps) / 10] as number);
    if (edges[edges.length - 1] === key) {
      baseShares[baseShares.length - 1] = (baseShares[baseShares.length - 1] as number) + 0.1;
    } else {
      edges.push(key);
      baseShares.push(0.1);
    }
  }
  baseShares.push(0.1);
  const psi = populationStabilityIndex(baseShares, sharesOf(bucketCounts(currentBins, edges)));
  let statistic = 0;
  let cumulative = 0;
  let bin = 0;
  for (const { key, level } of interior) {
    while (bin < currentBins.length && (currentBins[bin] as [number, number])[0] <= key) {
      cumulative += (currentBins[bin++] as [number, number])[1];
    }
    statistic = Math.max(statistic, Math.abs(cumulative / currentTotal - level));
  }
  return {
    psi,
    deciles: edges.map(valueOfBin),
    ks: { statistic, pValue: ksTwoSamplePValue(statistic, stats.n, currentTotal) },
  };
}

/** Label mix of the window against the baseline's: PSI over labels and the chi-square test. */
export function labelDrift(
  baseline: ReadonlyMap<string, number>,
  current: ReadonlyMap<string, number>,
): { psi: number; chiSquare: ChiSquareTest | null } {
  const labels = [...new Set([...baseline.keys(), ...current.keys()])].sort();
  const base = labels.map((l) => baseline.get(l) ?? 0);
  const now = labels.map((l) => current.get(l) ?? 0);
  return {
    psi: populationStabilityIndex(sharesOf(base), sharesOf(now)),
    chiSquare: chiSquareHomogeneity(base, now),
  };
}
