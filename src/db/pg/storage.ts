import type { PredictionLogOptions, PredictionRecord } from '../predictions.js';
import type { Storage } from '../storage.js';
import { createDb, createPool, migratePostgres } from './client.js';
import { startDeploymentListener } from './deployment-listener.js';
import { createPgDeploymentStore, DEPLOYMENTS_CHANNEL } from './deployment-store.js';
import { createPgFeedbackStore } from './feedback-store.js';
import { createPgHealth } from './health.js';
import { createPgLogArchive } from './log-archive.js';
import { ensurePartitions } from './partitions.js';
import { createPgPredictionLog } from './prediction-log.js';
import { createPgReplayStore } from './replay-store.js';
import { createPgRolloutStore } from './rollout-store.js';
import { createPgSecretStore } from './secret-store.js';
import { createPgStatsQueries } from './stats-queries.js';

/** Day partitions of predictions are created ahead at start and then this often. */
const PARTITION_CHECK_MS = 3_600_000;
/** How long close() waits for connections to end once the log is drained. */
const CLOSE_CONNECTIONS_MS = 2_000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export interface PostgresStorageOptions {
  url: string;
  log: PredictionLogOptions;
  /** ms between full re-reads of the deployments table: the safety net behind LISTEN/NOTIFY. */
  refreshMs: number;
  onWarn?: (message: string, error?: unknown) => void;
  /** False for command-line tools (score, export): never take the rollout leader lock. */
  lead?: boolean;
}

/**
 * PostgreSQL shared by several replicas: connects, migrates (one replica at a time),
 * loads every deployment into memory and keeps it current from the other replicas'
 * notifications, with a periodic full re-read behind them.
 */
export async function openPostgresStorage(options: PostgresStorageOptions): Promise<Storage> {
  const onWarn = options.onWarn ?? (() => {});
  const health = createPgHealth();
  const pool = createPool(options.url, onWarn);
  try {
    await migratePostgres(pool);
    await ensurePartitions(pool, Date.now(), onWarn);
    const db = createDb(pool);
    const deployments = createPgDeploymentStore(db);
    await deployments.reloadAll();

    const reloadQuietly = (model: string): void => {
      deployments.reload(model).catch((error: unknown) => {
        onWarn(`postgres: re-reading deployment "${model}" failed`, error);
      });
    };
    const listener = await startDeploymentListener({
      url: options.url,
      channel: DEPLOYMENTS_CHANNEL,
      onNotify: reloadQuietly,
      onListening: () => deployments.reloadAll(),
      health,
      onWarn,
      ...(options.lead === false ? { lead: false } : {}),
    });

    let refreshing = false;
    const refresh = setInterval(() => {
      // A database slower than refreshMs must not pile up re-reads.
      if (refreshing) return;
      refreshing = true;
      void listener.ping();
      deployments
        .reloadAll()
        .then(
          () => health.recovered('deployment refresh'),
          (error: unknown) => {
            health.failed('deployment refresh', error);
            onWarn('postgres: periodic re-read of deployments failed', error);
          },
        )
        .finally(() => {
          refreshing = false;
        });
    }, options.refreshMs);
    refresh.unref();
    // Hourly, by every long-running replica (they take turns on a lock): a day's partition
    // exists two days before its first row, whoever leads and whenever one restarts.
    const partitionCheck = setInterval(() => {
      ensurePartitions(pool, Date.now(), onWarn).catch((error: unknown) =>
        onWarn('postgres: creating the next days’ partitions failed', error),
      );
    }, PARTITION_CHECK_MS);
    partitionCheck.unref();
    if (options.lead === false) clearInterval(partitionCheck);

    const predictionLog = createPgPredictionLog(pool, { ...options.log, health });
    let closing: Promise<PredictionRecord[]> | undefined;

    return {
      kind: 'postgres',
      deployments,
      predictionLog,
      feedback: createPgFeedbackStore(db),
      rollouts: createPgRolloutStore(db),
      replays: createPgReplayStore(db),
      queries: createPgStatsQueries(pool),
      secrets: createPgSecretStore(db),
      archive: createPgLogArchive(pool),
      health: () => health.report(predictionLog.queueDepth),
      leads: () => listener.isLeader(),
      // Its stores answer an unreachable database with a 503 themselves (whileReachable).
      unavailable: () => undefined,
      close(deadline) {
        closing ??= (async () => {
          clearInterval(refresh);
          clearInterval(partitionCheck);
          const unwritten = await predictionLog.close(deadline);
          // A connection stuck on a database that stopped answering must not hold the
          // process: the rows are accounted for by now.
          const released = Promise.all([listener.close(), pool.end()]);
          await Promise.race([released, sleep(CLOSE_CONNECTIONS_MS)]);
          return unwritten;
        })();
        return closing;
      },
    };
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }
}
