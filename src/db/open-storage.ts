import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { openPostgresStorage } from './pg/storage.js';
import type { PredictionRecord } from './predictions.js';
import { replaySpillFiles, writeSpillFile } from './spill.js';
import { openSqliteStorage } from './sqlite/storage.js';
import type { Storage } from './storage.js';

export interface OpenStorageOptions {
  /**
   * Opened by a command-line tool (npm run score / export) beside running gateways: with
   * PostgreSQL it never becomes the replica that times progressive rollouts.
   */
  tool?: boolean;
}

/** What became of the prediction log's rows at shutdown. */
export interface DrainReport {
  /** Rows not written by the deadline; 0 when the log was drained. */
  unwritten: number;
  /** Where those rows wait for the next start; null if none, or if saving them failed. */
  spillFile: string | null;
  /** Why saving them failed: then these rows are lost. */
  spillError?: string;
}

export interface OpenedStorage extends Omit<Storage, 'close'> {
  /** Drains the log until `deadline` (epoch ms), spills what is left, closes the storage. */
  close(deadline?: number): Promise<DrainReport>;
}

/**
 * The one place that decides where modelgate keeps its state (PostgreSQL if configured,
 * else SQLite), and that no row is lost across a restart: rows a previous process could
 * not write (spill files) are written before this returns, and rows this process cannot
 * write by its shutdown deadline are spilled.
 */
export async function openStorage(
  config: Config,
  logger: Logger,
  options: OpenStorageOptions = {},
): Promise<OpenedStorage> {
  const log = {
    ...config.predictionLog,
    // Once per failure burst, not once per retry: the cause is in /v2/health/ready meanwhile.
    onError: (error: unknown, pending: number) =>
      logger.warn(
        { cause: error instanceof Error ? error.message : String(error), pending },
        'prediction log write failed; rows kept, retrying with backoff',
      ),
    // Not retried (it would fail the same way for ever), so said as loudly as a lost row.
    onRowsRejected: (rows: readonly PredictionRecord[]) =>
      logger.error(
        { rows: rows.length, ids: rows.slice(0, 10).map((r) => r.id) },
        `${rows.length} prediction rows rejected by the database (a required field is missing): not logged`,
      ),
    onRecovered: (failedAttempts: number) =>
      logger.info({ failedAttempts }, 'prediction log writing again'),
  };
  const storage = config.databaseUrl
    ? await openPostgresStorage({
        url: config.databaseUrl,
        log,
        refreshMs: config.dbRefreshMs,
        onWarn: (message, error) => logger.warn({ err: error }, message),
        ...(options.tool ? { lead: false } : {}),
      })
    : openSqliteStorage(config.dbPath, log, { logWriter: config.logWriter });

  // A tool (score, export) beside a running gateway leaves the spill files to the gateway.
  if (!options.tool) await replaySpills(config, storage, logger);

  return {
    ...storage,
    async close(deadline = Date.now() + config.shutdownTimeoutMs) {
      const unwritten = await storage.close(deadline);
      if (unwritten.length === 0) return { unwritten: 0, spillFile: null };
      try {
        return {
          unwritten: unwritten.length,
          spillFile: writeSpillFile(config.spillDir, unwritten),
        };
      } catch (error) {
        return {
          unwritten: unwritten.length,
          spillFile: null,
          spillError: (error as Error).message,
        };
      }
    },
  };
}

/** Writes every spill file a previous process left into the log; fails start-up if it cannot. */
async function replaySpills(config: Config, storage: Storage, logger: Logger): Promise<void> {
  try {
    const replayed = await replaySpillFiles(config.spillDir, (rows) =>
      storage.predictionLog.replay(rows),
    );
    if (replayed.files > 0) {
      logger.info({ ...replayed, dir: config.spillDir }, 'spill files written into the log');
    }
  } catch (error) {
    await storage.close(Date.now());
    throw new Error(
      `could not write the spill files in ${config.spillDir} into the log (they are kept): ${(error as Error).message}`,
      { cause: error },
    );
  }
}
