import pg from 'pg';
import { DAY_MS, ensurePartitions } from '../../src/db/pg/partitions.js';
import { openPostgresStorage } from '../../src/db/pg/storage.js';
import type { Storage } from '../../src/db/storage.js';
import { RETENTION_DEFAULTS, startLogRetention } from '../../src/retention/log-retention.js';
import { realisticRows } from './log-writer.js';
import { withScratchDatabase } from './postgres-bench.js';

const CHUNK = 20_000;

async function fillDay(storage: Storage, dayStart: number, rows: number) {
  for (let done = 0; done < rows; done += CHUNK) {
    const chunk = realisticRows(Math.min(CHUNK, rows - done));
    chunk.forEach((row, i) => {
      row.ts = dayStart + Math.floor(((done + i) * (DAY_MS - 1)) / rows);
    });
    storage.predictionLog.append(chunk);
    await storage.predictionLog.flush();
  }
}

const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))] ??
  0;

/**
 * Inserts of 50 rows, one after another on their own connection, for as long as `work`
 * runs (or `quietMs`): what a replica's log writer waits while retention works.
 */
async function insertLatencies(url: string, work: () => Promise<unknown>) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const latencies: number[] = [];
  let running = true;
  let n = 0;
  const inserting = (async () => {
    while (running) {
      const values: unknown[] = [];
      const tuples: string[] = [];
      for (let i = 0; i < 50; i++) {
        const base = i * 4;
        tuples.push(
          `($${base + 1}, $${base + 2}, 'iris', 'v1', 'live', $${base + 3}, '{}', $${base + 4}, 'ok')`,
        );
        values.push(`bench-${process.pid}-${n++}`, Date.now(), 'r', 40);
      }
      const started = process.hrtime.bigint();
      await client.query(
        `INSERT INTO predictions (id, ts, model, version, route, request_id, input, latency_us, status)
         VALUES ${tuples.join(',')}`,
        values,
      );
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
  })();
  const started = process.hrtime.bigint();
  await work();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  running = false;
  await inserting;
  await client.end();
  return { seconds, p99: percentile(latencies, 0.99), max: Math.max(0, ...latencies) };
}

/**
 * Retention on PostgreSQL, a day of `rows` rows aged out two ways while another
 * connection inserts: deleted in batches (the day has no partition: its rows sit in
 * the default partition, as in an unpartitioned table) and dropped whole (its own
 * day partition). Time, and the inserts' p99 and max during each against quiet.
 */
export async function benchPartitions(adminUrl: string, rows = 1_000_000): Promise<string[]> {
  const line = await withScratchDatabase(adminUrl, async (url) => {
    const storage = await openPostgresStorage({
      url,
      log: { flushRows: 5000, flushMs: 10, maxQueue: 100_000 },
      refreshMs: 60_000,
    });
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    try {
      const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
      const droppedDay = today - 3 * DAY_MS;
      const deletedDay = today - 4 * DAY_MS;
      await ensurePartitions(pool, droppedDay, () => {});
      await fillDay(storage, deletedDay, rows);
      await fillDay(storage, droppedDay, rows);
      await pool.query('ANALYZE predictions');
      const retire = (cutoff: number) => async () => {
        const retention = startLogRetention({
          archive: storage.archive,
          retentionMs: 0,
          leads: () => true,
          now: () => cutoff,
          intervalMs: 3_600_000,
          batchRows: 500,
        });
        const deleted = await retention.runOnce();
        await retention.close();
        return deleted;
      };
      const deleting = await insertLatencies(url, retire(droppedDay));
      const quiet = await insertLatencies(
        url,
        () =>
          new Promise((resolve) => setTimeout(resolve, Math.min(deleting.seconds * 1000, 20_000))),
      );
      const dropping = await insertLatencies(url, retire(droppedDay + DAY_MS));
      const { rows: left } = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM predictions WHERE ts < $1`,
        [droppedDay + DAY_MS],
      );
      if ((left[0]?.n ?? -1) !== 0) throw new Error(`${left[0]?.n} rows left before the cutoff`);
      const ms = (value: number) => `${value.toFixed(1)} ms`;
      return `PostgreSQL retention of a day of ${rows.toLocaleString('en')} rows: deleted in batches of 500 (${RETENTION_DEFAULTS.pauseMs} ms apart) ${deleting.seconds.toFixed(1)} s, inserts of 50 rows p99 ${ms(deleting.p99)} (max ${ms(deleting.max)}); dropped as a partition ${dropping.seconds.toFixed(2)} s, inserts p99 ${ms(dropping.p99)} (max ${ms(dropping.max)}); quiet p99 ${ms(quiet.p99)} (max ${ms(quiet.max)})`;
    } finally {
      await pool.end();
      await storage.close();
    }
  });
  return [line];
}
