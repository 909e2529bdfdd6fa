import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type Config, readConfig } from '../config.js';
import { openStorage } from '../db/open-storage.js';
import { createLogger } from '../logger.js';
import type { DriftBaseline, DriftReport } from './drift-report.js';
import { formatCompareReport } from './format.js';
import { formatDrift } from './format-drift.js';
import { loadDrift } from './load-drift.js';
import {
  type CompareReport,
  type CompareWindow,
  configuredSplitOf,
  loadCompareReport,
} from './report.js';
import { retentionNote } from './retention-note.js';
import {
  parseDriftBaseline,
  parsePsiThreshold,
  parseSince,
  parseTimePoint,
  parseVersionList,
} from './time-window.js';

/**
 * `npm run compare -- --model iris [--since 1h|split] [--until …] [--versions v1,v2] [--json]`:
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
      baseline: { type: 'string' },
      'psi-threshold': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.model) {
    process.stderr.write(
      'usage: npm run compare -- --model <name> [--since 1h|split] [--until 10m] [--versions v1,v2] [--baseline 7d..1d] [--psi-threshold 0.2] [--json] [--db path]\n',
    );
    process.exit(2);
  }
  const config = databaseOf(readConfig(), values.db);
  const now = Date.now();
  const window: CompareWindow = {
    model: values.model,
    ...parseSince('--since', values.since, now),
    until: parseTimePoint('--until', values.until, now),
    versions: parseVersionList(values.versions),
  };
  const baseline = parseDriftBaseline(values.baseline, now);
  if (baseline?.kind === 'training') {
    // model.json lives beside the gateway's models; this tool reads only the database.
    throw new Error(
      '--baseline training needs the gateway: GET /compare/<model>?baseline=training',
    );
  }
  const psiThreshold = parsePsiThreshold(values['psi-threshold']);
  const { report, drift } = await compare(config, window, now, baseline, psiThreshold);
  const retention = retentionNote(report.window.since ?? undefined, config.logRetentionMs, now);
  process.stdout.write(
    values.json
      ? `${JSON.stringify({ ...report, ...(retention && { retention }), ...(drift && { drift }) }, null, 2)}\n`
      : `${formatCompareReport(report)}${retention ? `note: ${retention.message}\n` : ''}${drift ? `\n${formatDrift(drift)}` : ''}`,
  );
}

/** `--db path` reads that SQLite file; otherwise the database the gateway is configured with. */
function databaseOf(config: Config, dbPath: string | undefined): Config {
  const chosen = dbPath ? { ...config, dbPath, databaseUrl: null } : config;
  // Opening a SQLite path that does not exist would create an empty log and compare nothing.
  if (!chosen.databaseUrl && !existsSync(chosen.dbPath)) {
    throw new Error(`no database at ${chosen.dbPath}`);
  }
  return chosen;
}

/**
 * Through the same Storage as the gateway, opened as a tool: it never takes the
 * PostgreSQL rollout lead, and leaves spill files to the gateway.
 */
async function compare(
  config: Config,
  window: CompareWindow,
  now: number,
  baseline: DriftBaseline | undefined,
  psiThreshold: number | undefined,
): Promise<{ report: CompareReport; drift: DriftReport | undefined }> {
  // stderr: stdout carries the report (JSON with --json).
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, 2);
  const storage = await openStorage(config, logger, { tool: true });
  try {
    const state = storage.deployments.get(window.model);
    // An Unleash split lives in Unleash; GET /compare on the gateway knows it, the database does not.
    const split = state ? configuredSplitOf(state, null) : null;
    // Nothing is logged from here: there is no queue of ours to flush.
    const deps = { queries: storage.queries, flushLog: async () => {} };
    const report = await loadCompareReport(deps, window, split, now);
    const drift = baseline
      ? await loadDrift(deps, {
          model: window.model,
          since: report.window.since ?? 0,
          until: report.window.until,
          versions: window.versions,
          baseline,
          psiThreshold,
        })
      : undefined;
    return { report, drift };
  } finally {
    await storage.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`compare: ${(error as Error).message}\n`);
  process.exit(1);
});
