import { and, asc, desc, eq, inArray, isNull, lt, sql } from 'drizzle-orm';
import {
  LIVE_REPLAY_STATUSES,
  REPLAY_ENDED_FROM_OUTSIDE,
  REPLAY_RESULT_COLUMNS,
  type ReplayRecord,
  type ReplayResultRecord,
  type ReplayStore,
  replayResultValues,
  TERMINAL_REPLAY_STATUSES,
} from '../replays.js';
import type { PgDb } from './client.js';
import { whileReachable } from './errors.js';
import { replayResults, replays } from './schema.js';

/**
 * PostgreSQL's clock in ms, for heartbeats and the abandon check: one clock for every
 * replica, so one whose clock runs 10 s ahead does not end another's live jobs.
 */
const dbNowMs = () => sql<number>`(extract(epoch from now()) * 1000)::bigint`;

const RESULT_COLUMNS = `replay_id, prediction_id, ts, served_version, served_label, served_value,
  candidate_label, candidate_value, latency_us, status, error`;

/** A multi-row INSERT with its parameters: drizzle's builder costs more main-thread time. */
function insertResults(rows: readonly ReplayResultRecord[]) {
  const values: unknown[] = [];
  const tuples = rows.map((r, i) => {
    values.push(...replayResultValues(r));
    const first = i * REPLAY_RESULT_COLUMNS;
    return `(${Array.from({ length: REPLAY_RESULT_COLUMNS }, (_, k) => `$${first + k + 1}`).join(', ')})`;
  });
  return {
    text: `INSERT INTO replay_results (${RESULT_COLUMNS}) VALUES ${tuples.join(', ')}`,
    values,
  };
}

/** Any replica answers for any job: the job, its progress and its report live here. */
export function createPgReplayStore(db: PgDb): ReplayStore {
  const one = async (id: string) => {
    const [row] = await whileReachable(db.select().from(replays).where(eq(replays.id, id)));
    return row as ReplayRecord | undefined;
  };
  return {
    async create(record) {
      await whileReachable(db.insert(replays).values({ ...record, heartbeatAt: dbNowMs() }));
    },
    get: one,
    list: async (model, limit) =>
      (await whileReachable(
        db
          .select()
          .from(replays)
          .where(model === null ? undefined : eq(replays.model, model))
          .orderBy(desc(replays.createdAt), desc(replays.id))
          .limit(limit),
      )) as ReplayRecord[],
    async start(id, at) {
      const updated = await whileReachable(
        db
          .update(replays)
          .set({ status: 'running', startedAt: at, heartbeatAt: dbNowMs() })
          .where(and(eq(replays.id, id), eq(replays.status, 'queued')))
          .returning({ id: replays.id }),
      );
      return updated.length === 1;
    },
    async progress(id, { rowsDone, total }) {
      const updated = await whileReachable(
        db
          .update(replays)
          .set({ rowsDone, total, heartbeatAt: dbNowMs() })
          .where(and(eq(replays.id, id), eq(replays.status, 'running')))
          .returning({ id: replays.id }),
      );
      return updated.length === 1;
    },
    async heartbeat(ids) {
      if (ids.length === 0) return;
      await whileReachable(
        db
          .update(replays)
          .set({ heartbeatAt: dbNowMs() })
          .where(and(inArray(replays.id, [...ids]), inArray(replays.status, LIVE_REPLAY_STATUSES))),
      );
    },
    async appendResults(rows) {
      if (rows.length === 0) return;
      await whileReachable(db.$client.query(insertResults(rows)));
    },
    async finish(id, outcome) {
      const updated = await whileReachable(
        db
          .update(replays)
          .set({
            status: outcome.status,
            rowsDone: outcome.rowsDone,
            report: outcome.report,
            error: outcome.error,
            finishedAt: outcome.at,
            heartbeatAt: dbNowMs(),
          })
          .where(and(eq(replays.id, id), eq(replays.status, 'running')))
          .returning({ id: replays.id }),
      );
      return updated.length === 1;
    },
    async attachReport(id, rowsDone, report) {
      await whileReachable(
        db
          .update(replays)
          .set({ rowsDone, report })
          .where(
            and(
              eq(replays.id, id),
              inArray(replays.status, REPLAY_ENDED_FROM_OUTSIDE),
              isNull(replays.report),
            ),
          ),
      );
    },
    async cancel(id, at) {
      await whileReachable(
        db
          .update(replays)
          .set({ status: 'cancelled', finishedAt: at })
          .where(and(eq(replays.id, id), inArray(replays.status, LIVE_REPLAY_STATUSES))),
      );
      return one(id);
    },
    async abandon(silentForMs, at, error) {
      const updated = await whileReachable(
        db
          .update(replays)
          .set({ status: 'failed', error, finishedAt: at })
          .where(
            and(
              inArray(replays.status, LIVE_REPLAY_STATUSES),
              lt(replays.heartbeatAt, sql`${dbNowMs()} - ${silentForMs}`),
            ),
          )
          .returning({ id: replays.id }),
      );
      return updated.length;
    },
    async deleteFinishedBefore(before, limit) {
      // Results are per job, so whole jobs go: their results by replay_id (the key's first
      // column), then the jobs, in one transaction. Only terminal statuses, which a job
      // never leaves, so a job running on another replica cannot be caught.
      return whileReachable(
        db.transaction(async (tx) => {
          const old = await tx
            .select({ id: replays.id })
            .from(replays)
            .where(
              and(
                inArray(replays.status, [...TERMINAL_REPLAY_STATUSES]),
                lt(replays.finishedAt, before),
              ),
            )
            .orderBy(asc(replays.finishedAt), asc(replays.id))
            .limit(limit);
          const ids = old.map((row) => row.id);
          if (ids.length === 0) return 0;
          await tx.delete(replayResults).where(inArray(replayResults.replayId, ids));
          await tx.delete(replays).where(inArray(replays.id, ids));
          return ids.length;
        }),
      );
    },
    results: async (id) =>
      (await whileReachable(
        db
          .select()
          .from(replayResults)
          .where(eq(replayResults.replayId, id))
          .orderBy(asc(replayResults.ts), asc(replayResults.predictionId)),
      )) as ReplayResultRecord[],
  };
}
