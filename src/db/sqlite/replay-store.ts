import { and, asc, desc, eq, inArray, isNull, lt } from 'drizzle-orm';
import type { ReplayRecord, ReplayResultRecord, ReplayStore } from '../replays.js';
import type { Db } from './client.js';
import { replayResults, replays } from './schema.js';

const LIVE_STATUSES = ['queued', 'running'] as const;

export function createSqliteReplayStore(db: Db): ReplayStore {
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
        .where(and(inArray(replays.id, [...ids]), inArray(replays.status, [...LIVE_STATUSES])))
        .run();
    },
    async appendResults(rows) {
      if (rows.length === 0) return;
      // One transaction per batch: a few hundred µs on the event loop, not one commit a row.
      db.transaction((tx) => {
        tx.insert(replayResults)
          .values(rows as ReplayResultRecord[])
          .run();
      });
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
        .where(and(eq(replays.id, id), eq(replays.status, 'cancelled'), isNull(replays.report)))
        .run();
    },
    async cancel(id, at) {
      db.update(replays)
        .set({ status: 'cancelled', finishedAt: at })
        .where(and(eq(replays.id, id), inArray(replays.status, [...LIVE_STATUSES])))
        .run();
      return db.select().from(replays).where(eq(replays.id, id)).get() as ReplayRecord | undefined;
    },
    async abandon(staleBefore, at, error) {
      const result = db
        .update(replays)
        .set({ status: 'failed', error, finishedAt: at })
        .where(
          and(inArray(replays.status, [...LIVE_STATUSES]), lt(replays.heartbeatAt, staleBefore)),
        )
        .run();
      return result.changes;
    },
    results: async (id) =>
      db
        .select()
        .from(replayResults)
        .where(eq(replayResults.replayId, id))
        .orderBy(asc(replayResults.ts), asc(replayResults.predictionId))
        .all() as ReplayResultRecord[],
  };
}
