import { sql } from 'drizzle-orm';
import {
  check,
  index,
  integer,
  primaryKey,
  real,
  sqliteTable,
  text,
} from 'drizzle-orm/sqlite-core';

/** One row per answered prediction (batch rows each get their own). */
export const predictions = sqliteTable(
  'predictions',
  {
    id: text('id').primaryKey(), // uuidv7: sorts by time
    ts: integer('ts').notNull(), // ms since epoch
    model: text('model').notNull(),
    version: text('version').notNull(),
    route: text('route').notNull(),
    userHash: text('user_hash'),
    requestId: text('request_id').notNull(),
    input: text('input').notNull(), // JSON
    output: text('output'), // JSON
    label: text('label'),
    score: real('score'),
    latencyUs: integer('latency_us').notNull(),
    status: text('status', { enum: ['ok', 'error'] }).notNull(),
    error: text('error'),
    shadowOf: text('shadow_of'),
    // Answered from the version's prediction cache; still one row per request.
    cached: integer('cached', { mode: 'boolean' }).notNull().default(false),
  },
  // Every index costs each logged row a B-tree insert, so each earns its place. New rows
  // land at the end of each index's groups (ts grows), which keeps a flush to a few pages.
  (table) => [
    // /compare: one scan of this covering index in GROUP BY order (no sort, no table
    // reads) counts requests, errors, labels and split-routed traffic per version.
    index('predictions_compare').on(
      table.model,
      table.version,
      table.status,
      table.label,
      table.route,
      table.ts,
      table.shadowOf,
    ),
    // Time-bounded reads: the dashboard's last hour, latencies at a window's ragged edges.
    index('predictions_model_ts').on(
      table.model,
      table.ts,
      table.version,
      table.status,
      table.shadowOf,
      table.latencyUs,
    ),
    // Shadow rows only (a few percent at most): shadow agreement finds them without a scan.
    index('predictions_shadows').on(table.model, table.ts).where(sql`shadow_of IS NOT NULL`),
  ],
);

/**
 * Served, successful predictions per version, minute and latency bucket
 * (latency-buckets.ts latencyBucketOf), kept by the log writer in the same transaction
 * as the rows. Latency percentiles over a million rows read a few thousand of these
 * instead of sorting every latency; the partial minutes at a window's edges come
 * from the rows themselves, so percentiles stay exact to the millisecond window.
 */
export const latencyRollup = sqliteTable(
  'latency_rollup',
  {
    model: text('model').notNull(),
    version: text('version').notNull(),
    minute: integer('minute').notNull(), // floor(ts / 60000)
    bucket: integer('bucket').notNull(),
    count: integer('count').notNull(),
  },
  (table) => [primaryKey({ columns: [table.model, table.version, table.minute, table.bucket] })],
);

/**
 * Ground truth for a prediction, sent later by the user's system: the right label, a
 * numeric outcome (conversion 0/1, revenue, watch time, a regression target), or both.
 * At least one of the two is set (POST /feedback checks it).
 */
export const feedback = sqliteTable(
  'feedback',
  {
    predictionId: text('prediction_id').primaryKey(),
    label: text('label'),
    value: real('value'),
    ts: integer('ts').notNull(),
  },
  // Unqualified: SQLite keeps the text of a CHECK through the table rebuild and rename.
  () => [check('feedback_label_or_value', sql`label IS NOT NULL OR value IS NOT NULL`)],
);

/** The current deployment of each model; one row per model. */
export const deployments = sqliteTable('deployments', {
  model: text('model').primaryKey(),
  live: text('live').notNull(),
  standby: text('standby'),
  history: text('history', { mode: 'json' }).$type<string[]>().notNull(),
  split: text('split', { mode: 'json' }).$type<Record<string, number> | null>(),
  source: text('source', { enum: ['local', 'unleash'] }).notNull(),
  pinned: integer('pinned', { mode: 'boolean' }).notNull(),
  shadow: text('shadow', { mode: 'json' }).$type<{ version: string; percent: number } | null>(),
  hosted: text('hosted', { mode: 'json' }).$type<Record<string, string>>().notNull().default({}),
  revision: integer('revision').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** Append-only audit of every control change. */
export const deploymentEvents = sqliteTable(
  'deployment_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    model: text('model').notNull(),
    action: text('action').notNull(),
    fromVersion: text('from_version'),
    toVersion: text('to_version'),
    actor: text('actor').notNull(),
    reason: text('reason'),
    detail: text('detail', { mode: 'json' }).$type<Record<string, unknown> | null>(),
    ts: integer('ts').notNull(),
  },
  (table) => [index('deployment_events_model_id').on(table.model, table.id)],
);

/** The latest progressive rollout of each model; survives restarts. */
export const rollouts = sqliteTable('rollouts', {
  model: text('model').primaryKey(),
  candidate: text('candidate').notNull(),
  baseline: text('baseline').notNull(),
  steps: text('steps', { mode: 'json' }).$type<number[]>().notNull(),
  stepIndex: integer('step_index').notNull(),
  intervalMs: integer('interval_ms').notNull(),
  guards: text('guards', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
  status: text('status', {
    enum: ['running', 'completed', 'rolled_back', 'aborted'],
  }).notNull(),
  stepStartedAt: integer('step_started_at').notNull(),
  nextEvaluationAt: integer('next_evaluation_at'),
  readings: text('readings', { mode: 'json' }).$type<unknown[]>().notNull(),
  startedAt: integer('started_at').notNull(),
  finishedAt: integer('finished_at'),
  outcome: text('outcome'),
});

/**
 * Values every process sharing this database must agree on, created once by
 * whichever asks first (the user-hash key when MODELGATE_USER_HASH_KEY is unset).
 */
export const secrets = sqliteTable('secrets', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
});

/**
 * Replay jobs (src/db/replays.ts): one row each, with progress, heartbeat and, once
 * done, the report as JSON. Never joined to `predictions`; retention deletes finished jobs
 * past its horizon (src/db/replays.ts deleteFinishedBefore).
 */
export const replays = sqliteTable(
  'replays',
  {
    id: text('id').primaryKey(),
    model: text('model').notNull(),
    candidate: text('candidate').notNull(),
    since: integer('since').notNull(),
    until: integer('until').notNull(),
    limitRows: integer('limit_rows'),
    /** MODELGATE_REPLAY_MAX_ROWS_PER_S of the process that accepted it. */
    maxRowsPerS: integer('max_rows_per_s').notNull(),
    status: text('status', {
      enum: ['queued', 'running', 'done', 'failed', 'cancelled'],
    }).notNull(),
    rowsDone: integer('rows_done').notNull().default(0),
    total: integer('total'),
    report: text('report', { mode: 'json' }).$type<unknown>(),
    error: text('error'),
    createdAt: integer('created_at').notNull(),
    startedAt: integer('started_at'),
    finishedAt: integer('finished_at'),
    heartbeatAt: integer('heartbeat_at').notNull(),
  },
  (table) => [index('replays_model_created').on(table.model, table.createdAt)],
);

/**
 * What the candidate answered for each served row of a replay. No foreign key to
 * `predictions`: retention deletes log rows without looking here.
 */
export const replayResults = sqliteTable(
  'replay_results',
  {
    replayId: text('replay_id').notNull(),
    predictionId: text('prediction_id').notNull(),
    ts: integer('ts').notNull(),
    servedVersion: text('served_version').notNull(),
    servedLabel: text('served_label'),
    servedValue: real('served_value'),
    candidateLabel: text('candidate_label'),
    candidateValue: real('candidate_value'),
    latencyUs: real('latency_us'),
    status: text('status', { enum: ['ok', 'failed', 'skipped'] }).notNull(),
    error: text('error'),
  },
  (table) => [primaryKey({ columns: [table.replayId, table.predictionId] })],
);
