import { histogramTotal } from '../stats/value-bins.js';
import {
  DEFAULT_PSI_THRESHOLD,
  type FeatureDrift,
  labelDrift,
  numericDrift,
  type PredictionDrift,
  type TrainingFeatureStats,
  trainingDrift,
} from './drift.js';
import { mergeSamples, type TrafficSample } from './traffic-sample.js';

/** What a version's traffic is compared with. */
export type DriftBaseline = { kind: 'window'; since: number; until: number } | { kind: 'training' };

export interface VersionDrift {
  version: string;
  rows: number;
  /** Numeric features seen on both sides, by name. */
  features: FeatureDrift[];
  /**
   * The label mix (a classifier) or the predicted value (a regressor) against the same
   * version's in the baseline window; null without one.
   */
  prediction: PredictionDrift | null;
  /** Features whose PSI passes the threshold. */
  flagged: string[];
  /** Why a figure is missing, in words. */
  note: string | null;
}

export interface DriftReport {
  baseline: DriftBaseline & { rows: number | null };
  psiThreshold: number;
  versions: VersionDrift[];
}

/** Builds the drift of each version's window sample against a baseline window's samples. */
export function driftAgainstWindow(
  baseline: { since: number; until: number },
  before: ReadonlyMap<string, TrafficSample>,
  now: ReadonlyMap<string, TrafficSample>,
  psiThreshold = DEFAULT_PSI_THRESHOLD,
): DriftReport {
  const inputs = mergeSamples(before.values());
  const versions = sortedVersions(now).map(([version, sample]): VersionDrift => {
    const features: FeatureDrift[] = [];
    for (const [feature, histogram] of [...sample.features].sort((a, b) =>
      a[0].localeCompare(b[0]),
    )) {
      const reference = inputs.features.get(feature);
      if (!reference) continue;
      const drift = numericDrift(reference, histogram);
      features.push({
        feature,
        rows: histogramTotal(histogram),
        baselineRows: histogramTotal(reference),
        ...drift,
        flagged: drift.psi > psiThreshold,
      });
    }
    const own = before.get(version);
    const prediction = own ? predictionDrift(own, sample, psiThreshold) : null;
    return {
      version,
      rows: sample.rows,
      features,
      prediction,
      flagged: features.filter((f) => f.flagged).map((f) => f.feature),
      note:
        inputs.rows === 0
          ? 'no served traffic in the baseline window'
          : prediction === null
            ? 'no predictions of this version in the baseline window to compare its predictions with'
            : null,
    };
  });
  return {
    baseline: { kind: 'window', ...baseline, rows: inputs.rows },
    psiThreshold,
    versions,
  };
}

/** Builds the drift of each version's window sample against its model.json `featureStats`. */
export function driftAgainstTraining(
  statsOf: (version: string) => Readonly<Record<string, TrainingFeatureStats>> | undefined,
  now: ReadonlyMap<string, TrafficSample>,
  psiThreshold = DEFAULT_PSI_THRESHOLD,
): DriftReport {
  const versions = sortedVersions(now).map(([version, sample]): VersionDrift => {
    const stats = statsOf(version);
    const features: FeatureDrift[] = [];
    for (const [feature, training] of Object.entries(stats ?? {}).sort((a, b) =>
      a[0].localeCompare(b[0]),
    )) {
      const histogram = sample.features.get(feature);
      if (!histogram) continue;
      const drift = trainingDrift(training, histogram);
      features.push({
        feature,
        rows: histogramTotal(histogram),
        baselineRows: training.n,
        ...drift,
        flagged: drift.psi > psiThreshold,
      });
    }
    return {
      version,
      rows: sample.rows,
      features,
      prediction: null,
      flagged: features.filter((f) => f.flagged).map((f) => f.feature),
      note: stats
        ? 'training statistics carry no predictions (label mix or predicted values): prediction drift needs a baseline window'
        : 'this version is not loaded or its model.json has no featureStats',
    };
  });
  return { baseline: { kind: 'training', rows: null }, psiThreshold, versions };
}

/**
 * A classifier's label mix against its own in the baseline; a regressor's predicted values
 * the same way as a numeric feature (PSI over the baseline's deciles, KS). Null when either
 * side has nothing to compare.
 */
function predictionDrift(
  before: TrafficSample,
  now: TrafficSample,
  psiThreshold: number,
): PredictionDrift | null {
  const sum = (m: ReadonlyMap<unknown, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  if (before.labels.size > 0 && now.labels.size > 0) {
    const drift = labelDrift(before.labels, now.labels);
    return {
      kind: 'label',
      rows: sum(now.labels),
      baselineRows: sum(before.labels),
      ...drift,
      flagged: drift.psi > psiThreshold,
    };
  }
  if (before.predicted.size > 0 && now.predicted.size > 0) {
    const drift = numericDrift(before.predicted, now.predicted);
    return {
      kind: 'value',
      rows: histogramTotal(now.predicted),
      baselineRows: histogramTotal(before.predicted),
      ...drift,
      flagged: drift.psi > psiThreshold,
    };
  }
  return null;
}

const sortedVersions = (samples: ReadonlyMap<string, TrafficSample>) =>
  [...samples].sort((a, b) => a[0].localeCompare(b[0], 'en', { numeric: true }));
