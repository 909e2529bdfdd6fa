/**
 * Latency histogram buckets on a log scale, 32 per doubling:
 *   bucket(us) = round(log2(max(us, 1)) · 32),  value(bucket) = 2^(bucket / 32).
 * A bucket holds the latencies in [2^((b − ½)/32), 2^((b + ½)/32)) and its value is their
 * geometric centre, so it is within a factor 2^(±1/64) of each of them: relative error at
 * most LATENCY_MAX_RELATIVE_ERROR = 2^(1/64) − 1 ≈ 1.089 %. Latencies under 1 µs (0)
 * fall in bucket 0, value 1 µs. 10 s is bucket 744: a GROUP BY yields a few hundred rows.
 *
 * Storages group rows by latency in SQL and bucket the few distinct values here (SQLite)
 * or run the same formula in SQL (PostgreSQL, tested to agree): rows never reach JavaScript.
 * Lives in db/ because the stored latency rollup holds these bucket numbers and
 * compare/statistics.ts reads them back: both import it, neither imports the other.
 */
export const BUCKETS_PER_DOUBLING = 32;
export const LATENCY_MAX_RELATIVE_ERROR = 2 ** (1 / (2 * BUCKETS_PER_DOUBLING)) - 1;
export const latencyBucketOf = (us: number): number =>
  Math.round(Math.log2(Math.max(us, 1)) * BUCKETS_PER_DOUBLING);
export const latencyOfBucket = (bucket: number): number => 2 ** (bucket / BUCKETS_PER_DOUBLING);
