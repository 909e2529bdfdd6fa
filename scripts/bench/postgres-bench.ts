import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgresStorage } from '../../src/db/pg/storage.js';
import { timeExportAndRetention } from './archive-bench.js';
import { fillAndTimeCompare } from './compare-bench.js';
import { timeDrift } from './drift-bench.js';
import { realisticRows } from './log-writer.js';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function asAdmin(adminUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

const SKIPPED = 'PostgreSQL: skipped';

/** A database made for one measurement and dropped after, or why there is none. */
export async function withScratchDatabase(
  adminUrl: string,
  measure: (url: string) => Promise<string>,
): Promise<string> {
  const name = `modelgate_bench_${randomBytes(4).toString('hex')}`;
  try {
    await asAdmin(adminUrl, `CREATE DATABASE ${name}`);
  } catch (error) {
    return `${SKIPPED} (${(error as Error).message})`;
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  try {
    return await measure(url.toString());
  } finally {
    await asAdmin(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

/**
 * The prediction log writer against PostgreSQL (multi-row INSERTs, one transaction per
 * flush): rows appended one per event-loop turn as the gateway does, then the time until
 * the last is committed. Then a comparison over 1,000,000 rows, as with SQLite.
 */
export async function benchPostgres(adminUrl: string, count = 200_000): Promise<string[]> {
  const writer = await withScratchDatabase(adminUrl, (url) => logWriter(url, count));
  if (writer.startsWith(SKIPPED)) return [writer];
  const compare = await withScratchDatabase(adminUrl, async (url) => {
    const storage = await openPostgresStorage({
      url,
      log: { flushRows: 1000, flushMs: 10, maxQueue: 100_000 },
      refreshMs: 60_000,
    });
    try {
      // Table statistics, as autovacuum gathers them within a minute of a bulk load.
      // Without them the planner walks the (model, ts) index row by row: 3–4 s here.
      const analyze = async () => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        await client.query('ANALYZE predictions, feedback');
        await client.end();
      };
      const compare = await fillAndTimeCompare(
        storage,
        1_000_000,
        'PostgreSQL, after ANALYZE',
        analyze,
      );
      const drift = await timeDrift(storage, 'PostgreSQL', 1_000_000);
      const archive = await timeExportAndRetention(storage, 'PostgreSQL');
      return [compare, drift, ...archive].join('\n');
    } finally {
      await storage.close();
    }
  });
  // One line per measurement: the compare, then export and retention on the same log.
  return [writer, ...compare.split('\n')];
}

async function logWriter(url: string, count: number): Promise<string> {
  const storage = await openPostgresStorage({
    url,
    log: { flushRows: 1000, flushMs: 10, maxQueue: count },
    refreshMs: 60_000,
  });
  const rows = realisticRows(count);
  let maxQueue = 0;
  const started = process.hrtime.bigint();
  for (const row of rows) {
    storage.predictionLog.append([row]);
    maxQueue = Math.max(maxQueue, storage.predictionLog.queueDepth);
    await nextTurn();
  }
  await storage.predictionLog.flush();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const written = storage.predictionLog.rowsWritten;
  await storage.close();
  const check = new pg.Client({ connectionString: url });
  await check.connect();
  const { rows: counted } = await check.query('SELECT count(*)::int AS n FROM predictions');
  await check.end();
  return `prediction log writer on PostgreSQL 127.0.0.1: ${written.toLocaleString('en')} rows appended one per event-loop turn, committed in ${seconds.toFixed(2)} s = ${Math.round(written / seconds).toLocaleString('en')} rows/s (max queue ${maxQueue}; ${counted[0].n.toLocaleString('en')} rows in the table)`;
}
