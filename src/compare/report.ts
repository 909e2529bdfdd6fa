import type Database from 'better-sqlite3';
import type { SplitWeights } from '../db/deployment-state.js';
import {
  type Interval,
  LATENCY_BUCKET_SQL,
  type ProportionTest,
  percentilesFromBuckets,
  type SampleRatioTest,
  sampleRatioMismatch,
  twoProportionZTest,
  wilsonInterval,
} from './statistics.js';

export interface CompareWindow {
  model: string;
  /** ms since epoch, inclusive; default: the beginning of the log. */
  since?: number | undefined;
  /** ms since epoch, exclusive; default: now. */
  until?: number | undefined;
  /** Only these versions; default: every version with traffic in the window. */
  versions?: readonly string[] | undefined;
}

/** The split the gateway was told to apply, so the observed traffic can be tested against it. */
export interface ConfiguredSplit {
  source: 'local' | 'unleash';
  weights: SplitWeights | null;
  pinned: boolean;
}

export interface VersionReport {
  version: string;
  requests: number;
  /** Of the requests in the report (shadow predictions excluded). */
  share: number;
  errors: number;
  errorRate: number;
  latencyMs: { p50: number | null; p95: number | null; p99: number | null };
  labels: Record<string, number>;
  accuracy: (Interval & { n: number; correct: number }) | null;
}

export interface AccuracyComparison {
  baseline: string;
  candidate: string;
  test: ProportionTest | null;
  significant: boolean;
}

export interface ShadowAgreement {
  served: string;
  shadow: string;
  pairs: number;
  agreement: Interval | null;
}

export interface SampleRatioReport {
  expected: SplitWeights;
  observed: Record<string, number>;
  /** Counted from the later of the window start and the last change of the split. */
  since: number;
  test: SampleRatioTest | null;
}

export interface CompareReport {
  model: string;
  window: { since: number | null; until: number };
  versions: VersionReport[];
  accuracy: AccuracyComparison[];
  sampleRatio: SampleRatioReport | null;
  /** Why there is no sample-ratio test, in words. */
  sampleRatioNote: string | null;
  shadow: ShadowAgreement[];
}

export const SIGNIFICANCE = 0.05;

/**
 * Builds the comparison with aggregation in SQL over the (model, ts) and
 * (model, version, ts) indexes: rows never travel to JavaScript.
 */
export function buildCompareReport(
  sqlite: Database.Database,
  window: CompareWindow,
  split: ConfiguredSplit | null,
  now: number,
): CompareReport {
  const since = window.since ?? null;
  const until = window.until ?? now + 1;
  const where = 'model = @model AND ts >= @since AND ts < @until AND shadow_of IS NULL';
  const params = { model: window.model, since: since ?? 0, until };
  const wanted = window.versions ? new Set(window.versions) : null;
  const keep = (version: string) => wanted === null || wanted.has(version);

  const counts = sqlite
    .prepare(
      `SELECT version, label, status, count(*) AS n FROM predictions WHERE ${where}
       GROUP BY version, status, label`,
    )
    .all(params) as Array<{ version: string; label: string | null; status: string; n: number }>;
  const buckets = sqlite
    .prepare(
      `SELECT version, ${LATENCY_BUCKET_SQL} AS bucket, count(*) AS count FROM predictions
       WHERE ${where} AND status = 'ok' GROUP BY version, bucket`,
    )
    .all(params) as Array<{ version: string; bucket: number; count: number }>;
  const feedback = sqlite
    .prepare(
      `SELECT p.version AS version, count(*) AS n, coalesce(sum(p.label = f.label), 0) AS correct
       FROM predictions p JOIN feedback f ON f.prediction_id = p.id
       WHERE p.model = @model AND p.ts >= @since AND p.ts < @until AND p.shadow_of IS NULL
       GROUP BY p.version`,
    )
    .all(params) as Array<{ version: string; n: number; correct: number }>;

  const byVersion = new Map<string, VersionReport>();
  const versionOf = (version: string) => {
    let report = byVersion.get(version);
    if (!report) {
      report = {
        version,
        requests: 0,
        share: 0,
        errors: 0,
        errorRate: 0,
        latencyMs: { p50: null, p95: null, p99: null },
        labels: {},
        accuracy: null,
      };
      byVersion.set(version, report);
    }
    return report;
  };
  for (const row of counts) {
    if (!keep(row.version)) continue;
    const report = versionOf(row.version);
    report.requests += row.n;
    if (row.status === 'error') report.errors += row.n;
    else if (row.label !== null) report.labels[row.label] = (report.labels[row.label] ?? 0) + row.n;
  }
  const total = [...byVersion.values()].reduce((sum, r) => sum + r.requests, 0);
  for (const report of byVersion.values()) {
    report.share = total === 0 ? 0 : report.requests / total;
    report.errorRate = report.requests === 0 ? 0 : report.errors / report.requests;
    const [p50, p95, p99] = percentilesFromBuckets(
      buckets.filter((b) => b.version === report.version),
      [50, 95, 99],
    ).map((us) => (us === null ? null : us / 1000));
    report.latencyMs = { p50: p50 ?? null, p95: p95 ?? null, p99: p99 ?? null };
  }
  for (const row of feedback) {
    const report = byVersion.get(row.version);
    const interval = wilsonInterval(row.correct, row.n);
    if (report && interval) report.accuracy = { ...interval, n: row.n, correct: row.correct };
  }
  const versions = [...byVersion.values()].sort((a, b) =>
    a.version.localeCompare(b.version, 'en', { numeric: true }),
  );

  return {
    model: window.model,
    window: { since, until },
    versions,
    accuracy: compareAccuracy(versions),
    ...sampleRatio(sqlite, where, params, split, keep),
    shadow: shadowAgreement(sqlite, params, keep),
  };
}

/** Every later version against the first (the baseline), on feedback accuracy. */
function compareAccuracy(versions: VersionReport[]): AccuracyComparison[] {
  const [baseline, ...candidates] = versions.filter((v) => v.accuracy !== null);
  if (!baseline?.accuracy) return [];
  return candidates.map((candidate) => {
    const a = baseline.accuracy as { correct: number; n: number };
    const b = candidate.accuracy as { correct: number; n: number };
    const test = twoProportionZTest(a.correct, a.n, b.correct, b.n);
    return {
      baseline: baseline.version,
      candidate: candidate.version,
      test,
      significant: test !== null && test.pValue < SIGNIFICANCE,
    };
  });
}

function sampleRatio(
  sqlite: Database.Database,
  where: string,
  params: Record<string, unknown>,
  split: ConfiguredSplit | null,
  keep: (version: string) => boolean,
): { sampleRatio: SampleRatioReport | null; sampleRatioNote: string | null } {
  if (!split?.weights) {
    return { sampleRatio: null, sampleRatioNote: 'no split is configured' };
  }
  // Traffic is tested against the split in force since it was last set, and only the
  // requests the split decided count: overrides, pins and shadows are not its doing.
  const lastChange = sqlite
    .prepare(
      `SELECT max(ts) AS ts FROM deployment_events WHERE model = @model AND ts < @until
       AND action IN ('split', 'source', 'rollout_start', 'rollout_step')`,
    )
    .get(params) as { ts: number | null };
  const from = Math.max(Number(params.since), lastChange.ts ?? 0);
  const rows = sqlite
    .prepare(
      `SELECT version, count(*) AS n FROM predictions WHERE ${where} AND ts >= @from
       AND route IN ('split', 'flag') GROUP BY version`,
    )
    .all({ ...params, from }) as Array<{ version: string; n: number }>;
  const observed: Record<string, number> = {};
  for (const row of rows) if (keep(row.version)) observed[row.version] = row.n;
  const expected = Object.fromEntries(Object.entries(split.weights).filter(([v]) => keep(v)));
  const test = sampleRatioMismatch(observed, expected);
  return {
    sampleRatio: { expected, observed, since: from, test },
    sampleRatioNote: test === null ? 'no traffic routed by the split since it was set' : null,
  };
}

function shadowAgreement(
  sqlite: Database.Database,
  params: Record<string, unknown>,
  keep: (version: string) => boolean,
): ShadowAgreement[] {
  const rows = sqlite
    .prepare(
      `SELECT p.version AS served, s.version AS shadow, count(*) AS pairs,
              coalesce(sum(p.label = s.label), 0) AS same
       FROM predictions s JOIN predictions p ON p.id = s.shadow_of
       WHERE s.model = @model AND s.ts >= @since AND s.ts < @until
         AND s.status = 'ok' AND p.status = 'ok'
       GROUP BY p.version, s.version`,
    )
    .all(params) as Array<{ served: string; shadow: string; pairs: number; same: number }>;
  return rows
    .filter((row) => keep(row.served) || keep(row.shadow))
    .map((row) => ({
      served: row.served,
      shadow: row.shadow,
      pairs: row.pairs,
      agreement: wilsonInterval(row.same, row.pairs),
    }));
}
