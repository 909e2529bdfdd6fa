import type { Histogram } from '../stats/value-bins.js';

/** One version's served traffic in a window, as counts: what drift is computed from. */
export interface TrafficSample {
  rows: number;
  /** Per feature, its values' bins (value-bins.ts). */
  features: Map<string, Histogram>;
  /** Successful predictions per label. */
  labels: Map<string, number>;
  /** A regressor's predicted values (successful rows with a value and no label), binned. */
  predicted: Histogram;
}

export const emptySample = (): TrafficSample => ({
  rows: 0,
  features: new Map(),
  labels: new Map(),
  predicted: new Map(),
});

/** Every version's sample merged: the baseline of features, whichever version served them. */
export function mergeSamples(samples: Iterable<TrafficSample>): TrafficSample {
  const merged = emptySample();
  for (const sample of samples) {
    merged.rows += sample.rows;
    for (const [label, n] of sample.labels)
      merged.labels.set(label, (merged.labels.get(label) ?? 0) + n);
    for (const [key, n] of sample.predicted)
      merged.predicted.set(key, (merged.predicted.get(key) ?? 0) + n);
    for (const [feature, histogram] of sample.features) {
      const into = merged.features.get(feature) ?? new Map<number, number>();
      for (const [key, n] of histogram) into.set(key, (into.get(key) ?? 0) + n);
      merged.features.set(feature, into);
    }
  }
  return merged;
}
