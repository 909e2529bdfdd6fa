import type { StatsQueries } from '../db/stats-queries.js';
import type { TrainingFeatureStats } from './drift.js';
import {
  type DriftBaseline,
  type DriftReport,
  driftAgainstTraining,
  driftAgainstWindow,
} from './drift-report.js';
import { scanTraffic } from './drift-scan.js';

export interface DriftRequest {
  model: string;
  /** The window judged: ms since epoch, since inclusive, until exclusive. */
  since: number;
  until: number;
  versions?: readonly string[] | undefined;
  baseline: DriftBaseline;
  psiThreshold?: number | undefined;
}

/**
 * Drift for /compare and the CLI: one streamed pass over the window's served rows and,
 * for a baseline window, one over that; then pure arithmetic on the counts.
 */
export async function loadDrift(
  deps: {
    queries: StatsQueries;
    flushLog: () => Promise<void>;
    /** model.json `featureStats` of a loaded version (undefined when it has none). */
    featureStats?: (
      model: string,
      version: string,
    ) => Readonly<Record<string, TrainingFeatureStats>> | undefined;
  },
  request: DriftRequest,
): Promise<DriftReport> {
  await deps.flushLog();
  const wanted = request.versions ? new Set(request.versions) : null;
  const keep = (version: string) => wanted === null || wanted.has(version);
  const range = { model: request.model, since: request.since, until: request.until };
  const now = await scanTraffic(deps.queries, range, keep);
  const { baseline } = request;
  if (baseline.kind === 'training') {
    return driftAgainstTraining(
      (version) => deps.featureStats?.(request.model, version),
      now,
      request.psiThreshold,
    );
  }
  const before = await scanTraffic(deps.queries, { model: request.model, ...baseline });
  return driftAgainstWindow(baseline, before, now, request.psiThreshold);
}
