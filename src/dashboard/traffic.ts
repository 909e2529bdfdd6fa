import { MINUTE_MS, type StatsQueries } from '../db/stats-queries.js';

export interface TrafficSeries {
  model: string;
  bucketMs: number;
  /** Start of each bucket (ms since epoch), oldest first; the last is the current minute. */
  buckets: number[];
  /** Served requests per version and bucket (shadow predictions excluded), natural order. */
  versions: Array<{ version: string; counts: number[] }>;
}

/**
 * Requests per version and minute over the last `minutes` minutes, counted by the
 * storage with one GROUP BY; only the per-minute counts reach JavaScript.
 */
export function createTrafficQuery(queries: StatsQueries) {
  return async (model: string, minutes: number, now: number): Promise<TrafficSeries> => {
    const first = Math.floor(now / MINUTE_MS) - minutes + 1;
    const rows = await queries.trafficPerMinute(
      model,
      first * MINUTE_MS,
      (first + minutes) * MINUTE_MS,
    );
    const counts = new Map<string, number[]>();
    for (const row of rows) {
      let series = counts.get(row.version);
      if (!series) {
        series = new Array<number>(minutes).fill(0);
        counts.set(row.version, series);
      }
      series[row.minute - first] = row.n;
    }
    return {
      model,
      bucketMs: MINUTE_MS,
      buckets: Array.from({ length: minutes }, (_, i) => (first + i) * MINUTE_MS),
      versions: [...counts]
        .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
        .map(([version, series]) => ({ version, counts: series })),
    };
  };
}
