import { and, asc, desc, eq, inArray, isNull, lt } from 'drizzle-orm';
import {
  LIVE_REPLAY_STATUSES,
  REPLAY_ENDED_FROM_OUTSIDE,
  type ReplayRecord,
  type ReplayResultRecord,
  type ReplayStore,
  replayResultValues,
} from '../replays.js';
import type { Db } from './client.js';
import { writeTransaction } from './connection.js';
import { replayResults, replays } from './schema.js';

export function createSqliteReplayStore(db: Db): ReplayStore {
  // A prepared statement, not the query builder: building a 64-row insert through drizzle
  // cost more main-thread time than running the rows through the model.
  const insertResult = db.$client.prepare(
    `INSERT INTO replay_results (replay_id, prediction_id, ts, served_version, served_label,
       served_value, candidate_label, candidate_value, latency_us, status, error)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertResults = writeTransaction(db.$client, (rows: readonly ReplayResultRecord[]) => {
    for (const row of rows) insertResult.run(replayResultValues(row));
  });
  // Retention: the oldest finished job past the horizon, then its results a batch at a
  // time through the (replay_id, prediction_id) key, then the job once it has none left.
  const oldestFinished = db.$client.prepare(
    `SELECT id FROM replays WHERE status IN ('done', 'failed', 'cancelled') AND finished_at < ?
     ORDER BY finished_at, id LIMIT 1`,
  );
  const deleteResultRows = db.$client.prepare(
    `DELETE FROM replay_results WHERE rowid IN
       (SELECT rowid FROM replay_results WHERE replay_id = ? LIMIT ?)`,
  );
  const deleteJob = db.$client.prepare('DELETE FROM replays WHERE id = ?');
  const deleteFinished = writeTransaction(db.$client, (before: number, limit: number) => {
    let deleted = 0;
    while (deleted < limit) {
      const job = oldestFinished.get(before) as { id: string } | undefined;
      if (!job) break;
      const results = deleteResultRows.run(job.id, limit - deleted).changes;
      deleted += results;
      if (deleted >= limit) break;
      deleted += deleteJob.run(job.id).changes;
    }
    return deleted;
  });
  return {
    async create(record) {
      db.insert(replays).values(record).run();
    },
    get: async (id) =>
      db.select().from(replays).where(eq(replays.id, id)).get() as ReplayRecord | undefined,
    list: async (model, limit) =>
      db
        .select()
        .from(replays)
        .where(model === null ? undefined : eq(replays.model, model))
        .orderBy(desc(replays.createdAt), desc(replays.id))
        .limit(limit)
        .all() as ReplayRecord[],
    async start(id, at) {
      const result = db
        .update(replays)
        .set({ status: 'running', startedAt: at, heartbeatAt: at })
        .where(and(eq(replays.id, id), eq(replays.status, 'queued')))
        .run();
      return result.changes === 1;
    },
    async progress(id, { rowsDone, total, at }) {
      const result = db
        .update(replays)
        .set({ rowsDone, total, heartbeatAt: at })
        .where(and(eq(replays.id, id), eq(replays.status, 'running')))
        .run();
      return result.changes === 1;
    },
    async heartbeat(ids, at) {
      if (ids.length === 0) return;
      db.update(replays)
        .set({ heartbeatAt: at })
        .where(and(inArray(replays.id, [...ids]), inArray(replays.status, LIVE_REPLAY_STATUSES)))
        .run();
    },
    async appendResults(rows) {
      // One transaction per batch: a commit per batch, not per row.
      if (rows.length > 0) insertResults(rows);
    },
    async finish(id, outcome) {
      const result = db
        .update(replays)
        .set({
          status: outcome.status,
          rowsDone: outcome.rowsDone,
          report: outcome.report,
          error: outcome.error,
          finishedAt: outcome.at,
          heartbeatAt: outcome.at,
        })
        .where(and(eq(replays.id, id), eq(replays.status, 'running')))
        .run();
      return result.changes === 1;
    },
    async attachReport(id, rowsDone, report) {
      db.update(replays)
        .set({ rowsDone, report })
        .where(
          and(
            eq(replays.id, id),
            inArray(replays.status, REPLAY_ENDED_FROM_OUTSIDE),
            isNull(replays.report),
          ),
        )
        .run();
    },
    async cancel(id, at) {
      db.update(replays)
        .set({ status: 'cancelled', finishedAt: at })
        .where(and(eq(replays.id, id), inArray(replays.status, LIVE_REPLAY_STATUSES)))
        .run();
      return db.select().from(replays).where(eq(replays.id, id)).get() as ReplayRecord | undefined;
    },
    async abandon(silentForMs, at, error) {
      const staleBefore = at - silentForMs;
      const result = db
        .update(replays)
        .set({ status: 'failed', error, finishedAt: at })
        .where(
          and(inArray(replays.status, LIVE_REPLAY_STATUSES), lt(replays.heartbeatAt, staleBefore)),
        )
        .run();
      return result.changes;
    },
    deleteFinishedBefore: async (before, limit) => deleteFinished(before, limit),
    results: async (id) =>
      db
        .select()
        .from(replayResults)
        .where(eq(replayResults.replayId, id))
        .orderBy(asc(replayResults.ts), asc(replayResults.predictionId))
        .all() as ReplayResultRecord[],
  };
}
