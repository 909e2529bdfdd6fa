import { latencyBucketOf } from './latency-buckets.js';
import type { CompareRows } from './stats-queries.js';

/**
 * Both storages group the window's served rows finely in SQL (version, status, label,
 * route; with PostgreSQL also the latency) and fold the few hundred groups here into
 * the comparison's rows. Pure.
 */
export interface CompareGroup {
  version: string;
  status: string;
  label: string | null;
  route: string;
  n: number;
  /** Of `n`, those at or after the last split change. */
  sinceSplitChange: number;
}

export interface LatencyGroup {
  version: string;
  latencyUs: number;
  n: number;
}

/** The comparison's counts per version, status and label, and its split-routed traffic. */
export function foldCompareGroups(
  groups: readonly CompareGroup[],
): Pick<CompareRows, 'counts' | 'splitRouted'> {
  const splitRouted = sumBy(
    groups.filter((g) => (g.route === 'split' || g.route === 'flag') && g.sinceSplitChange > 0),
    (g) => g.version,
    (g) => ({ version: g.version, n: g.sinceSplitChange }),
    (sum, g) => {
      sum.n += g.sinceSplitChange;
    },
  );
  const counts = sumBy(
    groups,
    (g) => `${g.version}\u0000${g.status}\u0000${g.label ?? '\u0001'}`,
    (g) => ({ version: g.version, label: g.label, status: g.status, n: g.n }),
    (sum, g) => {
      sum.n += g.n;
    },
  );
  return { counts, splitRouted };
}

/** Latency histogram buckets (latency-buckets.ts latencyBucketOf) from counts per exact latency. */
export function latencyBucketsOf(groups: readonly LatencyGroup[]): CompareRows['latencyBuckets'] {
  return mergeLatencyBuckets(
    groups.map((g) => ({ version: g.version, bucket: latencyBucketOf(g.latencyUs), count: g.n })),
  );
}

export function mergeLatencyBuckets(
  buckets: readonly CompareRows['latencyBuckets'][number][],
): CompareRows['latencyBuckets'] {
  return sumBy(
    buckets,
    (b) => `${b.version}\u0000${b.bucket}`,
    (b) => ({ ...b }),
    (sum, b) => {
      sum.count += b.count;
    },
  );
}

/** Groups `items` by `key`, starting each group with `first` and folding the rest in with `add`. */
function sumBy<T, S>(
  items: readonly T[],
  key: (item: T) => string,
  first: (item: T) => S,
  add: (sum: S, item: T) => void,
): S[] {
  const sums = new Map<string, S>();
  for (const item of items) {
    const k = key(item);
    const sum = sums.get(k);
    if (sum) add(sum, item);
    else sums.set(k, first(item));
  }
  return [...sums.values()];
}
