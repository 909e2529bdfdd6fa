import type pg from 'pg';
import { inTransaction } from './transaction.js';

/**
 * The day partitions of `predictions` on PostgreSQL (declared in migrations-pg/0006):
 * one per UTC day, `predictions_YYYYMMDD`, created ahead of time so rows never wait on
 * DDL, and dropped whole by retention. Rows outside every day land in
 * `predictions_default`; the table that existed before partitioning is the first
 * partition, `predictions_before_partitioning`, up to a midnight.
 */

export const DAY_MS = 86_400_000;
/** Today and this many days after it always have their partition. */
export const DAYS_AHEAD = 2;
/** Any fixed number: replicas creating the same partitions take turns ("mgpart"). */
const PARTITION_LOCK = 0x6d6770617274;

/** A partition of `predictions` other than the default: rows with from ≤ ts < to. */
export interface DayPartition {
  name: string;
  /** null = MINVALUE */
  from: number | null;
  to: number;
}

const dayStart = (ms: number) => Math.floor(ms / DAY_MS) * DAY_MS;

export function partitionName(from: number): string {
  return `predictions_${new Date(from).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

/**
 * The partitions to create so that every day from `now`'s through DAYS_AHEAD after it
 * has one. A range an existing partition covers (the pre-partitioning table reaches to
 * a midnight) is skipped; a day is never split.
 */
export function partitionsToCreate(
  existing: readonly DayPartition[],
  now: number,
  daysAhead = DAYS_AHEAD,
): DayPartition[] {
  const wanted: DayPartition[] = [];
  const last = dayStart(now) + daysAhead * DAY_MS;
  for (let from = dayStart(now); from <= last; from += DAY_MS) {
    const to = from + DAY_MS;
    const covered = existing.some((p) => (p.from === null || p.from < to) && p.to > from);
    if (!covered) wanted.push({ name: partitionName(from), from, to });
  }
  return wanted;
}

/** Partitions whose every row is older than `cutoff`: dropped whole by retention. */
export function partitionsBefore(
  existing: readonly DayPartition[],
  cutoff: number,
): DayPartition[] {
  return existing.filter((p) => p.to <= cutoff);
}

const BOUND = /FROM \((MINVALUE|'?(-?\d+)'?)\) TO \('?(-?\d+)'?\)/;

/** `FOR VALUES FROM ('1764633600000') TO ('1764720000000')` → its numbers. */
export function parseBound(name: string, bound: string): DayPartition | null {
  const match = BOUND.exec(bound);
  if (!match) return null;
  return {
    name,
    from: match[1] === 'MINVALUE' ? null : Number(match[2]),
    to: Number(match[3]),
  };
}

/** Every partition of `predictions` but the default, by range. */
export async function listPartitions(client: pg.ClientBase | pg.Pool): Promise<DayPartition[]> {
  const { rows } = await client.query<{ name: string; bound: string }>(
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'predictions'::regclass`,
  );
  return rows
    .flatMap((row) => {
      const parsed = parseBound(row.name, row.bound);
      return parsed ? [parsed] : [];
    })
    .sort((a, b) => a.to - b.to);
}

/**
 * Creates the partitions today and the next DAYS_AHEAD days lack. Replicas doing it at
 * once take turns on an advisory lock. A day whose rows already sit in the default
 * partition cannot be created (PostgreSQL would have to move them); it is reported and
 * its rows stay in the default, where retention deletes them in batches.
 */
export async function ensurePartitions(
  pool: pg.Pool,
  now: number,
  onWarn: (message: string, error?: unknown) => void,
): Promise<string[]> {
  const created: string[] = [];
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
    for (const day of partitionsToCreate(await listPartitions(client), now)) {
      await client.query('SAVEPOINT day');
      try {
        await client.query(
          `CREATE TABLE "${day.name}" PARTITION OF predictions FOR VALUES FROM (${day.from}) TO (${day.to})`,
        );
        await client.query('RELEASE SAVEPOINT day');
        created.push(day.name);
      } catch (error) {
        await client.query('ROLLBACK TO SAVEPOINT day');
        onWarn(
          `postgres: cannot create partition ${day.name}; its rows go to predictions_default`,
          error,
        );
      }
    }
  });
  return created;
}

/**
 * Drops every partition wholly older than `cutoff`, each with its predictions' feedback,
 * one transaction per partition (the drop holds the parent's lock only for a moment).
 * Returns about how many rows went (the planner's count: exact counting would read
 * every row it is about to throw away).
 */
export async function dropPartitionsBefore(pool: pg.Pool, cutoff: number): Promise<number> {
  let dropped = 0;
  for (const partition of partitionsBefore(await listPartitions(pool), cutoff)) {
    dropped += await inTransaction(pool, async (client) => {
      const { rows } = await client.query<{ n: number }>(
        'SELECT greatest(reltuples, 0)::float8 AS n FROM pg_class WHERE oid = $1::regclass',
        [partition.name],
      );
      // No foreign key links feedback to a partitioned table's rows: delete it here.
      await client.query(
        `DELETE FROM feedback f USING "${partition.name}" p WHERE f.prediction_id = p.id`,
      );
      await client.query(`DROP TABLE "${partition.name}"`);
      return rows[0]?.n ?? 0;
    });
  }
  return dropped;
}
