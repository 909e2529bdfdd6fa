import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { validationMessage } from './validation-message.js';

/**
 * The only reader of the environment. Every setting is optional; a bad value
 * fails start-up with one line naming the variable.
 */
const integer = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** At least an hour: the dashboard, rollout steps and /compare windows read the last hour. */
const MIN_RETENTION_MS = 3_600_000;
const retention = z.string().transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined || ms < MIN_RETENTION_MS) {
    ctx.addIssue({ code: 'custom', message: 'a duration of at least 1h, such as 30d or 12h' });
    return z.NEVER;
  }
  return ms;
});

const envSchema = z.object({
  PORT: integer(8080, 0, 65535),
  HOST: z.string().min(1).default('0.0.0.0'),
  MODELGATE_GRPC_PORT: integer(8081, 0, 65535),
  MODELGATE_DB: z.string().min(1).default('./data/modelgate.db'),
  MODELGATE_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// or postgresql:// URL')
    .optional(),
  MODELGATE_DB_REFRESH_MS: integer(1000, 100, 600_000),
  MODELGATE_MODELS_DIR: z.string().min(1).default('./models'),
  MODELGATE_CONTROL_TOKEN: z
    .string()
    .min(16, 'at least 16 characters')
    .regex(/^[A-Za-z0-9._~+/-]+=*$/, 'letters, digits and ._~+/- only (RFC 6750 token)')
    .optional(),
  MODELGATE_CONTROL_TOKEN_NAME: z
    .string()
    .regex(/^[\w.@-]{1,64}$/)
    .default('operator'),
  MODELGATE_USER_HASH_KEY: z.string().min(16, 'at least 16 characters').optional(),
  MODELGATE_FLAG_PREFIX: z.string().default('modelgate.'),
  MODELGATE_BATCH_WINDOW_US: integer(500, 0, 100_000),
  MODELGATE_BATCH_MAX_ROWS: integer(1000, 1, 100_000),
  MODELGATE_INFERENCE_WORKER: z.enum(['auto', 'on', 'off']).default('auto'),
  MODELGATE_CACHE_ROWS: integer(0, 0, 10_000_000),
  MODELGATE_INTRA_OP_THREADS: integer(1, 1, 64),
  MODELGATE_LOG_FLUSH_ROWS: integer(500, 1, 100_000),
  MODELGATE_LOG_FLUSH_MS: integer(10, 1, 60_000),
  MODELGATE_LOG_MAX_QUEUE: integer(100_000, 1000, 10_000_000),
  MODELGATE_LOG_WRITER: z.enum(['thread', 'inline']).default('thread'),
  MODELGATE_SHUTDOWN_TIMEOUT: integer(30, 1, 3600),
  MODELGATE_SPILL_DIR: z.string().min(1).optional(),
  MODELGATE_LOG_RETENTION: retention.optional(),
  MODELGATE_REPLAY_MAX_ROWS_PER_S: integer(2000, 1, 1_000_000),
  UNLEASH_URL: z.url().optional(),
  UNLEASH_API_TOKEN: z.string().optional(),
  UNLEASH_APP_NAME: z.string().min(1).default('modelgate'),
  UNLEASH_REFRESH_INTERVAL: integer(1000, 100, 3_600_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** Every environment variable modelgate reads: deployment files may name these and no others. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

export type InferenceWorkerMode = 'auto' | 'on' | 'off';

/** Where SQLite commits the prediction log: a thread of its own, or the event loop. */
export type LogWriterPlacement = 'thread' | 'inline';

export interface UnleashConfig {
  url: string;
  apiToken: string | undefined;
  appName: string;
  refreshIntervalMs: number;
}

export interface Config {
  port: number;
  host: string;
  /** The Open Inference Protocol's gRPC service; null when MODELGATE_GRPC_PORT is 0. */
  grpcPort: number | null;
  /** SQLite file, used when `databaseUrl` is unset. */
  dbPath: string;
  /** PostgreSQL shared by every replica; unset = SQLite. */
  databaseUrl: string | null;
  /** ms between full re-reads of deployments from PostgreSQL (behind LISTEN/NOTIFY). */
  dbRefreshMs: number;
  modelsDir: string;
  controlToken: string;
  /** Who the audit log says made a control change. */
  controlTokenName: string;
  /** True when the token was generated here and must be shown to the operator once. */
  controlTokenGenerated: boolean;
  /** HMAC key for the stored user hash; null = generated once and kept in the database. */
  userHashKey: string | null;
  flagPrefix: string;
  batch: { windowUs: number; maxRows: number };
  /** Where versions run their ONNX session: `auto` moves slow ones to a worker thread. */
  inferenceWorker: InferenceWorkerMode;
  /** Distinct input rows whose last result each loaded version remembers; 0 = no cache. */
  cacheRows: number;
  /** ONNX Runtime intra-op threads per session. */
  intraOpThreads: number;
  predictionLog: { flushRows: number; flushMs: number; maxQueue: number };
  /** SQLite only; a `:memory:` database is always written inline (no other thread can open it). */
  logWriter: LogWriterPlacement;
  /** From SIGTERM to exit at most: open requests are cut, unwritten rows spilled. */
  shutdownTimeoutMs: number;
  /** Predictions, their feedback and rollups older than this are deleted; null keeps all. */
  logRetentionMs: number | null;
  /** Replay (POST /control/replay): logged rows a second it may run through a candidate. */
  replay: { maxRowsPerS: number };
  /** Where rows that could not be written at shutdown wait for the next start. */
  spillDir: string;
  unleash: UnleashConfig | null;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings count as unset: `PORT= npm start` should mean the default.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(`invalid ${validationMessage(parsed.error.issues, 'environment')}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    grpcPort: e.MODELGATE_GRPC_PORT === 0 ? null : e.MODELGATE_GRPC_PORT,
    dbPath: e.MODELGATE_DB,
    databaseUrl: e.MODELGATE_DATABASE_URL ?? null,
    dbRefreshMs: e.MODELGATE_DB_REFRESH_MS,
    modelsDir: e.MODELGATE_MODELS_DIR,
    controlToken: e.MODELGATE_CONTROL_TOKEN ?? randomBytes(24).toString('base64url'),
    controlTokenGenerated: e.MODELGATE_CONTROL_TOKEN === undefined,
    controlTokenName: e.MODELGATE_CONTROL_TOKEN_NAME,
    userHashKey: e.MODELGATE_USER_HASH_KEY ?? null,
    flagPrefix: e.MODELGATE_FLAG_PREFIX,
    batch: { windowUs: e.MODELGATE_BATCH_WINDOW_US, maxRows: e.MODELGATE_BATCH_MAX_ROWS },
    inferenceWorker: e.MODELGATE_INFERENCE_WORKER,
    cacheRows: e.MODELGATE_CACHE_ROWS,
    intraOpThreads: e.MODELGATE_INTRA_OP_THREADS,
    predictionLog: {
      flushRows: e.MODELGATE_LOG_FLUSH_ROWS,
      flushMs: e.MODELGATE_LOG_FLUSH_MS,
      maxQueue: e.MODELGATE_LOG_MAX_QUEUE,
    },
    logWriter: e.MODELGATE_LOG_WRITER,
    shutdownTimeoutMs: e.MODELGATE_SHUTDOWN_TIMEOUT * 1000,
    logRetentionMs: e.MODELGATE_LOG_RETENTION ?? null,
    replay: { maxRowsPerS: e.MODELGATE_REPLAY_MAX_ROWS_PER_S },
    // Beside the SQLite file: on the volume that holds the log (./data with PostgreSQL).
    spillDir:
      e.MODELGATE_SPILL_DIR ??
      (e.MODELGATE_DATABASE_URL || e.MODELGATE_DB === ':memory:'
        ? './data'
        : dirname(e.MODELGATE_DB)),
    unleash: e.UNLEASH_URL
      ? {
          url: e.UNLEASH_URL,
          apiToken: e.UNLEASH_API_TOKEN,
          appName: e.UNLEASH_APP_NAME,
          refreshIntervalMs: e.UNLEASH_REFRESH_INTERVAL,
        }
      : null,
    logLevel: e.LOG_LEVEL,
  };
}
