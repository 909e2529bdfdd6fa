import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createRandom } from '../scripts/examples/prng.js';
import { loadCompareReport } from '../src/compare/report.js';
import {
  DAY_MS,
  ensurePartitions,
  listPartitions,
  partitionName,
} from '../src/db/pg/partitions.js';
import { openPostgresStorage } from '../src/db/pg/storage.js';
import type { PredictionLogOptions, PredictionRecord } from '../src/db/predictions.js';
import { openSqliteStorage } from '../src/db/sqlite/storage.js';
import type { Storage } from '../src/db/storage.js';
import { createTestDatabase, type TestDatabase } from './support/pg-database.js';

const LOG: PredictionLogOptions = { flushRows: 500, flushMs: 10, maxQueue: 100_000 };
const MIGRATIONS = resolve(import.meta.dirname, '../migrations-pg');
const dir = mkdtempSync(join(tmpdir(), 'modelgate-partitions-'));
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;

/** `count` rows of iris, evenly from `from` to `to`, two versions, a few errors. */
function rowsBetween(from: number, to: number, count: number, seed: number): PredictionRecord[] {
  const random = createRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const v2 = random() < 0.3;
    const label = random() < (v2 ? 0.6 : 0.4) ? 'setosa' : 'versicolor';
    const failed = random() < 0.02;
    return {
      id: `${seed}-${String(i).padStart(6, '0')}`,
      ts: from + Math.floor(((to - from) * i) / count),
      model: 'iris',
      version: v2 ? 'v2' : 'v1',
      route: random() < 0.5 ? 'split' : 'live',
      userHash: null,
      requestId: `r-${i}`,
      input: '{"x":1}',
      output: failed ? null : '{"setosa":0.6,"versicolor":0.4}',
      label: failed ? null : label,
      score: failed ? null : 0.6,
      latencyUs: 50 + Math.floor(random() * 5000),
      status: failed ? 'error' : 'ok',
      error: failed ? 'boom' : null,
      shadowOf: null,
      cached: random() < 0.1,
    };
  });
}

async function fill(storage: Storage, rows: PredictionRecord[]) {
  storage.predictionLog.append(rows);
  await storage.predictionLog.flush();
  for (const row of rows.filter((_, i) => i % 7 === 0)) {
    await storage.feedback.record(row.id, { label: 'setosa' }, row.ts + 1);
  }
}

const report = (storage: Storage) =>
  loadCompareReport(
    { queries: storage.queries, flushLog: () => storage.predictionLog.flush() },
    { model: 'iris', since: today - 10 * DAY_MS, until: today + DAY_MS },
    { source: 'local', weights: { v1: 70, v2: 30 }, pinned: false },
  );

async function openPg(url: string) {
  const storage = await openPostgresStorage({ url, log: LOG, refreshMs: 60_000 });
  cleanups.push(() => storage.close().then(() => {}));
  return storage;
}

async function freshDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  return database;
}

describe('PostgreSQL predictions partitioned by day', () => {
  it('upgrades an unpartitioned log in place: every row kept, /compare unchanged', async () => {
    const database = await freshDatabase();
    // The migrations as they were before partitioning: a log written by an older modelgate.
    const old = join(dir, 'old-migrations');
    cpSync(MIGRATIONS, old, { recursive: true });
    const journalPath = join(old, 'meta/_journal.json');
    const journal = JSON.parse(readFileSync(journalPath, 'utf8'));
    const at = journal.entries.findIndex(
      (e: { tag: string }) => e.tag === '0006_partition_predictions',
    );
    expect(at).toBeGreaterThan(0);
    journal.entries = journal.entries.slice(0, at);
    writeFileSync(journalPath, JSON.stringify(journal));
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await migrate(drizzle({ client }), { migrationsFolder: old });
    const rows = rowsBetween(today - 3 * DAY_MS, today + 3_600_000, 3_000, 1);
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500);
      await client.query(
        `INSERT INTO predictions (id, ts, model, version, route, user_hash, request_id, input,
           output, label, score, latency_us, status, error, shadow_of, cached)
         SELECT * FROM json_populate_recordset(NULL::predictions, $1)`,
        [
          JSON.stringify(
            chunk.map((r) => ({
              id: r.id,
              ts: r.ts,
              model: r.model,
              version: r.version,
              route: r.route,
              user_hash: r.userHash,
              request_id: r.requestId,
              input: r.input,
              output: r.output,
              label: r.label,
              score: r.score,
              latency_us: r.latencyUs,
              status: r.status,
              error: r.error,
              shadow_of: r.shadowOf,
              cached: r.cached,
            })),
          ),
        ],
      );
    }
    const feedbackIds = rows.filter((_, i) => i % 7 === 0).map((r) => r.id);
    await client.query(
      `INSERT INTO feedback (prediction_id, label, ts) SELECT id, 'setosa', 1 FROM unnest($1::text[]) AS id`,
      [feedbackIds],
    );
    await client.end();

    // The same rows in SQLite: the reference for what /compare must say.
    const sqlite = openSqliteStorage(join(dir, 'reference.db'), LOG);
    cleanups.push(() => sqlite.close().then(() => {}));
    await fill(sqlite, rows);

    const storage = await openPg(database.url);
    const check = new pg.Client({ connectionString: database.url });
    await check.connect();
    cleanups.push(() => check.end());
    const kind = await check.query("SELECT relkind FROM pg_class WHERE relname = 'predictions'");
    expect(kind.rows[0].relkind).toBe('p');
    const kept = await check.query<{ id: string; ts: string; cached: boolean }>(
      'SELECT id, ts, cached FROM predictions ORDER BY id',
    );
    expect(kept.rows.map((r) => [r.id, Number(r.ts), r.cached])).toEqual(
      [...rows].sort((a, b) => (a.id < b.id ? -1 : 1)).map((r) => [r.id, r.ts, r.cached]),
    );
    const partitions = (await listPartitions(check)).map((p) => p.name);
    expect(partitions[0]).toBe('predictions_before_partitioning');
    expect(partitions).toContain(partitionName(today + 2 * DAY_MS));
    expect(await report(storage)).toEqual(await report(sqlite));

    // The log keeps taking rows (a retried batch is still written once) and feedback.
    const later = rowsBetween(today + 2 * DAY_MS, today + 2 * DAY_MS + 1000, 10, 2);
    storage.predictionLog.append(later);
    storage.predictionLog.append(later);
    await storage.predictionLog.flush();
    await storage.feedback.record(later[0]?.id ?? '', { label: 'setosa' }, 5);
    const tail = await check.query(
      `SELECT tableoid::regclass::text AS partition, count(*)::int AS n FROM predictions
       WHERE id LIKE '2-%' GROUP BY 1`,
    );
    expect(tail.rows).toEqual([{ partition: partitionName(today + 2 * DAY_MS), n: 10 }]);
  }, 120_000);

  it('retention drops whole days, deletes in batches only inside the cutoff’s day', async () => {
    const database = await freshDatabase();
    const storage = await openPg(database.url);
    const pool = new pg.Pool({ connectionString: database.url, max: 2 });
    cleanups.push(() => pool.end());
    // Days -4 … -2 partitioned; day -1 has no partition, so its rows land in the default.
    expect(await ensurePartitions(pool, today - 4 * DAY_MS, () => {})).toEqual([
      partitionName(today - 4 * DAY_MS),
      partitionName(today - 3 * DAY_MS),
      partitionName(today - 2 * DAY_MS),
    ]);
    const rows = rowsBetween(today - 4 * DAY_MS, today + 3_600_000, 2_000, 3);
    await fill(storage, rows);
    // A clock far ahead: still logged, in the default partition.
    const future = rowsBetween(today + 40 * DAY_MS, today + 40 * DAY_MS + 10, 1, 4);
    await fill(storage, future);

    const cutoff = today - DAY_MS + 6 * 3_600_000;
    let deleted = 0;
    for (;;) {
      const batch = await storage.archive.deleteBefore(cutoff, 100);
      deleted += batch;
      if (batch < 100) break;
    }
    const names = (await listPartitions(pool)).map((p) => p.name);
    expect(names).not.toContain(partitionName(today - 4 * DAY_MS));
    expect(names).not.toContain(partitionName(today - 3 * DAY_MS));
    expect(names).not.toContain(partitionName(today - 2 * DAY_MS));
    expect(names).toContain(partitionName(today));

    const left = await pool.query<{ id: string }>('SELECT id FROM predictions ORDER BY id');
    const expected = [...rows, ...future].filter((r) => r.ts >= cutoff).map((r) => r.id);
    expect(left.rows.map((r) => r.id)).toEqual(expected.sort());
    expect(deleted).toBeGreaterThan(0);
    const feedback = await pool.query<{ id: string }>(
      'SELECT prediction_id AS id FROM feedback ORDER BY prediction_id',
    );
    const feedbackExpected = [...rows.filter((_, i) => i % 7 === 0), ...future]
      .filter((r) => r.ts >= cutoff)
      .map((r) => r.id)
      .sort();
    expect(feedback.rows.map((r) => r.id)).toEqual(feedbackExpected);
  }, 120_000);
});
