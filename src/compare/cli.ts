import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { readConfig } from '../config.js';
import { openPostgresStorage } from '../db/pg/storage.js';
import { createSqliteStatsQueries } from '../db/sqlite/stats-queries.js';
import { formatCompareReport } from './format.js';
import {
  type CompareReport,
  type CompareWindow,
  type ConfiguredSplit,
  loadCompareReport,
} from './report.js';
import { parseTimePoint, parseVersionList } from './time-window.js';

/**
 * `npm run compare -- --model iris [--since 1h] [--until …] [--versions v1,v2] [--json]`:
 * reads the prediction log itself (the SQLite file, or MODELGATE_DATABASE_URL), so it
 * works with the gateway running or not.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      versions: { type: 'string' },
      db: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.model) {
    process.stderr.write(
      'usage: npm run compare -- --model <name> [--since 1h] [--until 10m] [--versions v1,v2] [--json] [--db path]\n',
    );
    process.exit(2);
  }
  const config = readConfig();
  const window = (now: number) => ({
    model: values.model as string,
    since: parseTimePoint('--since', values.since, now),
    until: parseTimePoint('--until', values.until, now),
    versions: parseVersionList(values.versions),
  });
  const report =
    config.databaseUrl && !values.db
      ? await compareInPostgres(config.databaseUrl, window)
      : await compareInSqliteFile(values.db ?? config.dbPath, window);
  process.stdout.write(
    values.json ? `${JSON.stringify(report, null, 2)}\n` : formatCompareReport(report),
  );
}

type WindowAt = (now: number) => CompareWindow;

/** The replicas' shared database: the deployment (and its local split) as every replica sees it. */
async function compareInPostgres(url: string, window: WindowAt): Promise<CompareReport> {
  const storage = await openPostgresStorage({
    url,
    // Nothing is logged from here; the log settings only have to be valid.
    log: { flushRows: 500, flushMs: 10, maxQueue: 1000 },
    refreshMs: 60_000,
  });
  try {
    const now = Date.now();
    const at = window(now);
    const state = storage.deployments.get(at.model);
    const split: ConfiguredSplit | null = state
      ? {
          source: state.source,
          weights: state.source === 'local' ? state.split : null,
          pinned: state.pinned,
        }
      : null;
    return await loadCompareReport(
      { queries: storage.queries, flushLog: async () => {} },
      at,
      split,
      now,
    );
  } finally {
    await storage.close();
  }
}

/** Reads the SQLite file directly (read-only), so it works with the gateway running or not. */
async function compareInSqliteFile(dbPath: string, window: WindowAt): Promise<CompareReport> {
  const now = Date.now();
  const at = window(now);
  const sqlite = new Database(dbPath, { readonly: true, fileMustExist: true });
  const state = sqlite
    .prepare('SELECT source, split, pinned FROM deployments WHERE model = ?')
    .get(at.model) as
    | { source: 'local' | 'unleash'; split: string | null; pinned: number }
    | undefined;
  // An Unleash split lives in Unleash; GET /compare on the gateway knows it, the file does not.
  const split: ConfiguredSplit | null = state
    ? {
        source: state.source,
        weights: state.source === 'local' && state.split ? JSON.parse(state.split) : null,
        pinned: state.pinned === 1,
      }
    : null;
  try {
    return await loadCompareReport(
      // Read-only: the gateway's queue is its own business; the file has what it committed.
      { queries: createSqliteStatsQueries(sqlite), flushLog: async () => {} },
      at,
      split,
      now,
    );
  } finally {
    sqlite.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`compare: ${(error as Error).message}\n`);
  process.exit(1);
});
