import type Database from 'better-sqlite3';

export const MINUTE_MS = 60_000;

export interface TrafficSeries {
  model: string;
  bucketMs: number;
  /** Start of each bucket (ms since epoch), oldest first; the last is the current minute. */
  buckets: number[];
  /** Served requests per version and bucket (shadow predictions excluded), natural order. */
  versions: Array<{ version: string; counts: number[] }>;
}

/**
 * Requests per version and minute over the last `minutes` minutes, counted in SQLite with
 * one GROUP BY over the (model, ts) index; only the per-minute counts reach JavaScript.
 */
export function createTrafficQuery(sqlite: Database.Database) {
  const statement = sqlite.prepare(
    `SELECT version, ts / ${MINUTE_MS} AS minute, count(*) AS n FROM predictions
     WHERE model = @model AND shadow_of IS NULL AND ts >= @from AND ts < @to
     GROUP BY version, minute`,
  );
  return (model: string, minutes: number, now: number): TrafficSeries => {
    const first = Math.floor(now / MINUTE_MS) - minutes + 1;
    const rows = statement.all({
      model,
      from: first * MINUTE_MS,
      to: (first + minutes) * MINUTE_MS,
    }) as Array<{ version: string; minute: number; n: number }>;
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
