import type { LogWriterPlacement } from '../../config.js';
import type { PredictionLogOptions } from '../predictions.js';
import { createQueuedLog, type LogObserver } from '../queued-log.js';
import type { Storage } from '../storage.js';
import { openDatabase } from './client.js';
import { createSqliteDeploymentStore } from './deployment-store.js';
import { sqliteUnavailable } from './errors.js';
import { createSqliteFeedbackStore } from './feedback-store.js';
import { inlineLogWriter } from './inline-log-writer.js';
import { createSqliteLogArchive } from './log-archive.js';
import { startThreadLogWriter } from './log-thread.js';
import { createSqliteReplayStore } from './replay-store.js';
import { createSqliteRolloutStore } from './rollout-store.js';
import { createSqliteSecretStore } from './secret-store.js';
import { createSqliteStatsQueries } from './stats-queries.js';

export interface SqliteStorageOptions {
  /** Default `thread`; a `:memory:` database is written inline whatever this says. */
  logWriter?: LogWriterPlacement;
}

/** One SQLite file (WAL, migrations applied): everything one machine needs, no other service. */
export function openSqliteStorage(
  path: string,
  logOptions: PredictionLogOptions,
  options: SqliteStorageOptions = {},
): Storage {
  const db = openDatabase(path);
  // The log is the one path that writes on its own, so its last attempt is the file's health.
  let failure: string | null = null;
  let refusing = false;
  const observer: LogObserver = {
    failed: (error) => {
      failure = error instanceof Error ? error.message : String(error);
    },
    recovered: () => {
      failure = null;
      refusing = false;
    },
    refused: () => {
      refusing = true;
    },
  };
  // Started after openDatabase: the thread's connection finds the migrations applied.
  const thread =
    (options.logWriter ?? 'thread') === 'thread' && path !== ':memory:'
      ? startThreadLogWriter(path)
      : undefined;
  const predictionLog = createQueuedLog(thread ?? inlineLogWriter(db.$client), {
    ...logOptions,
    observer,
  });
  return {
    kind: 'sqlite',
    deployments: createSqliteDeploymentStore(db),
    predictionLog,
    feedback: createSqliteFeedbackStore(db),
    rollouts: createSqliteRolloutStore(db),
    replays: createSqliteReplayStore(db),
    queries: createSqliteStatsQueries(db.$client),
    secrets: createSqliteSecretStore(db),
    archive: createSqliteLogArchive(db.$client),
    // A local file is reachable as long as the process is.
    leads: () => true,
    unavailable: sqliteUnavailable,
    health: () => {
      const pendingRows = predictionLog.queueDepth;
      if (failure === null) return { ok: true, pendingRows, accepting: !refusing };
      return {
        ok: false,
        detail: `sqlite: cannot write the prediction log: ${failure}; ${pendingRows} log rows buffered`,
        pendingRows,
        accepting: !refusing,
      };
    },
    async close(deadline) {
      const unwritten = await predictionLog.close(deadline);
      await thread?.stop();
      db.$client.close();
      return unwritten;
    },
  };
}
