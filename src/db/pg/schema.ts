import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
} from 'drizzle-orm/pg-core';

/**
 * The PostgreSQL twin of ../sqlite/schema.ts: same tables and column names; its own
 * indexes (below), since PostgreSQL aggregates differently.
 * Milliseconds since epoch do not fit an int4, so they are bigints read back as numbers
 * (safe up to 2^53, i.e. the year 287396).
 */
const ms = (name: string) => bigint(name, { mode: 'number' });

/** One row per answered prediction (batch rows each get their own). */
export const predictions = pgTable(
  'predictions',
  {
    id: text('id').notNull(), // uuidv7: sorts by time
    ts: ms('ts').notNull(),
    model: text('model').notNull(),
    version: text('version').notNull(),
    route: text('route').notNull(),
    userHash: text('user_hash'),
    requestId: text('request_id').notNull(),
    // JSON kept as the text the gateway wrote, like SQLite: the log never parses it.
    input: text('input').notNull(),
    output: text('output'),
    label: text('label'),
    score: doublePrecision('score'),
    latencyUs: bigint('latency_us', { mode: 'number' }).notNull(),
    status: text('status', { enum: ['ok', 'error'] }).notNull(),
    error: text('error'),
    shadowOf: text('shadow_of'),
    // Answered from the version's prediction cache; still one row per request.
    cached: boolean('cached').notNull().default(false),
  },
  // Every index costs each logged row a B-tree insert. /compare reads a model's rows in
  // one parallel scan with hash aggregation, which no index beats on a large share of
  // the table; (model, ts) serves time-bounded reads (the dashboard's last hour), and
  // the partial index finds shadow rows, which then find their served row by primary key.
  // Partitioned by day on ts (migrations-pg/0006, partitions.ts): a partitioned table's
  // primary key must hold the partition key, so it is (id, ts).
  (table) => [
    primaryKey({ columns: [table.id, table.ts] }),
    index('predictions_model_ts').on(table.model, table.ts),
    index('predictions_shadows').on(table.model, table.ts).where(sql`shadow_of IS NOT NULL`),
  ],
);

/**
 * Ground truth for a prediction, sent later by the user's system: the right label, a
 * numeric outcome (conversion 0/1, revenue, watch time, a regression target), or both.
 * At least one of the two is set (POST /feedback checks it).
 */
export const feedback = pgTable(
  'feedback',
  {
    predictionId: text('prediction_id').primaryKey(),
    label: text('label'),
    value: doublePrecision('value'),
    ts: ms('ts').notNull(),
  },
  // Unqualified: SQLite keeps the text of a CHECK through the table rebuild and rename.
  () => [check('feedback_label_or_value', sql`label IS NOT NULL OR value IS NOT NULL`)],
);

/** The current deployment of each model; one row per model. */
export const deployments = pgTable('deployments', {
  model: text('model').primaryKey(),
  live: text('live').notNull(),
  standby: text('standby'),
  history: jsonb('history').$type<string[]>().notNull(),
  split: jsonb('split').$type<Record<string, number> | null>(),
  source: text('source', { enum: ['local', 'unleash'] }).notNull(),
  pinned: boolean('pinned').notNull(),
  shadow: jsonb('shadow').$type<{ version: string; percent: number } | null>(),
  hosted: jsonb('hosted').$type<Record<string, string>>().notNull().default({}),
  revision: integer('revision').notNull(),
  updatedAt: ms('updated_at').notNull(),
});

/** Append-only audit of every control change. */
export const deploymentEvents = pgTable(
  'deployment_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    model: text('model').notNull(),
    action: text('action').notNull(),
    fromVersion: text('from_version'),
    toVersion: text('to_version'),
    actor: text('actor').notNull(),
    reason: text('reason'),
    detail: jsonb('detail').$type<Record<string, unknown> | null>(),
    ts: ms('ts').notNull(),
  },
  (table) => [index('deployment_events_model_id').on(table.model, table.id)],
);

/** The latest progressive rollout of each model; survives restarts. */
export const rollouts = pgTable('rollouts', {
  model: text('model').primaryKey(),
  candidate: text('candidate').notNull(),
  baseline: text('baseline').notNull(),
  steps: jsonb('steps').$type<number[]>().notNull(),
  stepIndex: integer('step_index').notNull(),
  intervalMs: bigint('interval_ms', { mode: 'number' }).notNull(),
  guards: jsonb('guards').$type<Record<string, unknown>>().notNull(),
  status: text('status', {
    enum: ['running', 'completed', 'rolled_back', 'aborted'],
  }).notNull(),
  stepStartedAt: ms('step_started_at').notNull(),
  nextEvaluationAt: ms('next_evaluation_at'),
  readings: jsonb('readings').$type<unknown[]>().notNull(),
  startedAt: ms('started_at').notNull(),
  finishedAt: ms('finished_at'),
  outcome: text('outcome'),
});

/**
 * Values every replica must agree on, created once by whichever asks first (the
 * user-hash key when MODELGATE_USER_HASH_KEY is unset).
 */
export const secrets = pgTable('secrets', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
});

/**
 * Replay jobs (src/db/replays.ts): one row each, with progress, heartbeat and, once
 * done, the report. Not partitioned and not joined to `predictions`: dropping a day's
 * partition or deleting old log rows never touches them; retention deletes finished jobs
 * past its horizon on its own (src/db/replays.ts deleteFinishedBefore).
 */
export const replays = pgTable(
  'replays',
  {
    id: text('id').primaryKey(),
    model: text('model').notNull(),
    candidate: text('candidate').notNull(),
    since: ms('since').notNull(),
    until: ms('until').notNull(),
    limitRows: bigint('limit_rows', { mode: 'number' }),
    /** MODELGATE_REPLAY_MAX_ROWS_PER_S of the process that accepted it. */
    maxRowsPerS: integer('max_rows_per_s').notNull(),
    status: text('status', {
      enum: ['queued', 'running', 'done', 'failed', 'cancelled'],
    }).notNull(),
    rowsDone: bigint('rows_done', { mode: 'number' }).notNull().default(0),
    total: bigint('total', { mode: 'number' }),
    report: jsonb('report').$type<unknown>(),
    error: text('error'),
    createdAt: ms('created_at').notNull(),
    startedAt: ms('started_at'),
    finishedAt: ms('finished_at'),
    heartbeatAt: ms('heartbeat_at').notNull(),
  },
  (table) => [index('replays_model_created').on(table.model, table.createdAt)],
);

/** What the candidate answered for each served row of a replay; no foreign key to the log. */
export const replayResults = pgTable(
  'replay_results',
  {
    replayId: text('replay_id').notNull(),
    predictionId: text('prediction_id').notNull(),
    ts: ms('ts').notNull(),
    servedVersion: text('served_version').notNull(),
    servedLabel: text('served_label'),
    servedValue: doublePrecision('served_value'),
    candidateLabel: text('candidate_label'),
    candidateValue: doublePrecision('candidate_value'),
    latencyUs: doublePrecision('latency_us'),
    status: text('status', { enum: ['ok', 'failed', 'skipped'] }).notNull(),
    error: text('error'),
  },
  (table) => [primaryKey({ columns: [table.replayId, table.predictionId] })],
);
