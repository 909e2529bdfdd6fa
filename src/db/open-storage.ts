import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { openPostgresStorage } from './pg/storage.js';
import { openSqliteStorage } from './sqlite/storage.js';
import type { Storage } from './storage.js';

export interface OpenStorageOptions {
  /**
   * Opened by a command-line tool (npm run score / export) beside running gateways: with
   * PostgreSQL it never becomes the replica that times progressive rollouts.
   */
  tool?: boolean;
}

/** The one place that decides where modelgate keeps its state: PostgreSQL if configured, else SQLite. */
export async function openStorage(
  config: Config,
  logger: Logger,
  options: OpenStorageOptions = {},
): Promise<Storage> {
  const log = {
    ...config.predictionLog,
    onError: (error: unknown, pending: number) =>
      logger.error({ err: error, pending }, 'prediction log write failed; rows kept for retry'),
  };
  if (config.databaseUrl) {
    return openPostgresStorage({
      url: config.databaseUrl,
      log,
      refreshMs: config.dbRefreshMs,
      onWarn: (message, error) => logger.warn({ err: error }, message),
      ...(options.tool ? { lead: false } : {}),
    });
  }
  return openSqliteStorage(config.dbPath, log);
}
