/** The numbers the guards judge, from the storage's aggregated rows of one step's window. Pure. */
import { latencyOfBucket } from '../../db/latency-buckets.js';
import type { CompareRows } from '../../db/stats-queries.js';
import type { VersionWindow, WindowStats } from './guards.js';

export function windowStats(rows: CompareRows, live: string, candidate: string): WindowStats {
  const of = (version: string): VersionWindow => {
    let requests = 0;
    let errors = 0;
    for (const row of rows.counts) {
      if (row.version !== version) continue;
      requests += row.n;
      if (row.status === 'error') errors += row.n;
    }
    const latency = rows.latencyBuckets
      .filter((b) => b.version === version && b.count > 0)
      .sort((a, b) => a.bucket - b.bucket)
      // A bucket holds latencies below its upper edge, half a bucket above its value (µs → ms).
      .map((b) => ({ upperEdge: latencyOfBucket(b.bucket + 0.5) / 1000, count: b.count }));
    const feedback = rows.feedback.find((f) => f.version === version);
    const values = rows.feedbackValues.find((f) => f.version === version);
    const misses = rows.valueErrors.find((e) => e.version === version);
    const variance = (squares: number) => (misses && misses.n >= 2 ? squares / (misses.n - 1) : 0);
    return {
      requests,
      errors,
      latency,
      accuracy: feedback ? { n: feedback.n, correct: feedback.correct } : null,
      value: values
        ? {
            n: values.n,
            mean: values.mean,
            variance: values.n < 2 ? 0 : values.squares / (values.n - 1),
          }
        : null,
      predictionError: misses
        ? {
            absolute: { n: misses.n, mean: misses.mae, variance: variance(misses.absSquares) },
            squared: { n: misses.n, mean: misses.mse, variance: variance(misses.sqSquares) },
          }
        : null,
    };
  };
  const pair = rows.shadowPairs.filter(
    (s) =>
      (s.served === live && s.shadow === candidate) ||
      (s.served === candidate && s.shadow === live),
  );
  return {
    live: of(live),
    candidate: of(candidate),
    shadow:
      pair.length === 0
        ? null
        : {
            pairs: pair.reduce((sum, s) => sum + s.pairs, 0),
            same: pair.reduce((sum, s) => sum + s.same, 0),
          },
  };
}
