import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

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
  },
  // Every index costs each logged row a B-tree insert; these two serve /compare and the
  // dashboard. Shadow rows find their served row by primary key, so shadow_of has none.
  (table) => [
    index('predictions_model_version_ts').on(table.model, table.version, table.ts),
    index('predictions_model_ts').on(table.model, table.ts),
  ],
);

/** Ground truth for a prediction, sent later by the user's system. */
export const feedback = sqliteTable('feedback', {
  predictionId: text('prediction_id').primaryKey(),
  label: text('label').notNull(),
  ts: integer('ts').notNull(),
});

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
