import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { readConfig } from '../config.js';
import { createSqliteStatsQueries } from '../db/sqlite-stats-queries.js';
import { formatCompareReport } from './format.js';
import { type ConfiguredSplit, loadCompareReport } from './report.js';
import { parseTimePoint, parseVersionList } from './time-window.js';

/**
 * `npm run compare -- --model iris [--since 1h] [--until …] [--versions v1,v2] [--json]`:
 * reads the prediction log file directly (read-only), so it works with the gateway running or not.
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
  const dbPath = values.db ?? readConfig().dbPath;
  const sqlite = new Database(dbPath, { readonly: true, fileMustExist: true });
  const state = sqlite
    .prepare('SELECT source, split, pinned FROM deployments WHERE model = ?')
    .get(values.model) as
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
  const now = Date.now();
  const report = await loadCompareReport(
    // Read-only: the gateway's queue is its own business; the file has what it committed.
    { queries: createSqliteStatsQueries(sqlite), flushLog: async () => {} },
    {
      model: values.model,
      since: parseTimePoint('--since', values.since, now),
      until: parseTimePoint('--until', values.until, now),
      versions: parseVersionList(values.versions),
    },
    split,
    now,
  );
  sqlite.close();
  process.stdout.write(
    values.json ? `${JSON.stringify(report, null, 2)}\n` : formatCompareReport(report),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`compare: ${(error as Error).message}\n`);
  process.exit(1);
});
