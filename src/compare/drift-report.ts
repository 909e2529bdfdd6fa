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
  /** Label mix against the same version's in the baseline window; null without one. */
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
    const prediction =
      own && own.labels.size > 0 && sample.labels.size > 0
        ? predictionDrift(own.labels, sample.labels, psiThreshold)
        : null;
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
            ? 'no predictions of this version in the baseline window to compare the label mix with'
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
        ? 'training statistics carry no label mix: prediction drift needs a baseline window'
        : 'this version is not loaded or its model.json has no featureStats',
    };
  });
  return { baseline: { kind: 'training', rows: null }, psiThreshold, versions };
}

function predictionDrift(
  before: ReadonlyMap<string, number>,
  now: ReadonlyMap<string, number>,
  psiThreshold: number,
): PredictionDrift {
  const sum = (m: ReadonlyMap<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  const drift = labelDrift(before, now);
  return {
    rows: sum(now),
    baselineRows: sum(before),
    ...drift,
    flagged: drift.psi > psiThreshold,
  };
}

const sortedVersions = (samples: ReadonlyMap<string, TrafficSample>) =>
  [...samples].sort((a, b) => a[0].localeCompare(b[0], 'en', { numeric: true }));
