import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { v7 as uuidv7 } from 'uuid';
import type { ReplayRecord, ReplayStore } from '../db/replays.js';
import { readServedRows, type ServedRow, type ServedRowSource } from '../db/served-rows.js';
import { conflict, modelNotFound, notFound } from '../errors.js';
import type { ModelHost } from '../models/model-host.js';
import { type ReplayView, replayView } from './job-view.js';
import { createReplayPace, replayBatchRows } from './pace.js';
import { replayRows } from './replay-rows.js';
import { addOutcome, createReplayTally, type ReplayTally, replayReport } from './report.js';

export interface ReplayRequest {
  model: string;
  candidate: string;
  since: number;
  until: number;
  limit: number | null;
}

export interface ReplayService {
  /** Checks the request, stores the job as queued and runs it here, after any before it. */
  submit(request: ReplayRequest): Promise<ReplayView>;
  get(id: string): Promise<ReplayView>;
  list(model: string | null, limit: number): Promise<ReplayView[]>;
  /** Cancels a queued or running job (on whichever replica runs it); a finished one stays. */
  cancel(id: string): Promise<ReplayView>;
  /**
   * Stops the jobs this process holds, each failed with what it had done; then resolves, by
   * `deadline` (epoch ms) at the latest: a job stuck in its candidate must not hold the
   * shutdown (the log drains after this). Left running, it is declared abandoned later.
   */
  close(deadline?: number): Promise<void>;
}

export interface ReplayServiceDeps {
  replays: ReplayStore;
  rows: ServedRowSource;
  host: Pick<ModelHost, 'get' | 'require'>;
  /** The live version of a model this gateway serves; undefined for an unknown model. */
  liveVersion: (model: string) => string | undefined;
  /** Commits queued log rows, so a replay of "up to now" sees what was just served. */
  flushLog: () => Promise<void>;
  maxRowsPerS: number;
  onError: (error: unknown, job: ReplayRecord) => void;
  now?: () => number;
  /** How often held jobs say they are alive. */
  heartbeatMs?: number;
  /** A queued or running job silent this long is declared failed (its process died). */
  abandonAfterMs?: number;
  /** Served rows read per page. */
  pageRows?: number;
}

export const REPLAY_HEARTBEAT_MS = 1_000;
export const REPLAY_ABANDON_AFTER_MS = 10_000;
/** Progress is written at most this often (and whenever a page ends). */
const PROGRESS_EVERY_MS = 250;
const PAGE_ROWS = 256;

const ABANDONED =
  'abandoned: the gateway running this replay stopped without finishing it (no heartbeat)';

/**
 * Why a job stopped before its window ended: cancelled (or declared abandoned), the
 * gateway closing, or the candidate unloaded or reloaded from another file (its later
 * rows would be another model's answers, or fail on a released session).
 */
type Stop = 'cancelled' | 'closing' | 'unloaded' | 'replaced';

export function createReplayService(deps: ReplayServiceDeps): ReplayService {
  const now = deps.now ?? Date.now;
  const heartbeatMs = deps.heartbeatMs ?? REPLAY_HEARTBEAT_MS;
  const abandonAfterMs = deps.abandonAfterMs ?? REPLAY_ABANDON_AFTER_MS;
  const pageRows = deps.pageRows ?? PAGE_ROWS;
  /** Jobs this process holds, in the order they run; the first is running. */
  const held: string[] = [];
  const stopRequested = new Map<string, Stop>();
  let closing = false;
  let queue: Promise<void> = Promise.resolve();

  const heartbeat = setInterval(() => {
    if (held.length === 0) return;
    deps.replays.heartbeat(held, now()).catch(() => {
      // A missed beat is only a risk after several in a row; the next one retries.
    });
  }, heartbeatMs);
  heartbeat.unref();

  const sweepAbandoned = async () => {
    const at = now();
    await deps.replays.abandon(abandonAfterMs, at, ABANDONED);
  };

  const view = (record: ReplayRecord) => replayView(record, now());

  const runJob = async (id: string): Promise<void> => {
    const job = await deps.replays.get(id);
    if (!job || !(await deps.replays.start(id, now()))) return;
    const candidate = deps.host.get(job.model, job.candidate);
    if (!candidate) {
      await deps.replays.finish(id, {
        status: 'failed',
        rowsDone: 0,
        report: null,
        error: `${job.model}/${job.candidate} is no longer loaded here`,
        at: now(),
      });
      return;
    }
    const tally = createReplayTally(candidate.task, candidate.labels);
    const range = { model: job.model, since: job.since, until: job.until };
    const counted = await deps.rows.servedCount(range);
    const total = job.limitRows === null ? counted : Math.min(counted, job.limitRows);
    let done = 0;
    let lastProgress = now();
    const batchRows = replayBatchRows(job.maxRowsPerS);
    const stillRunning = () => deps.replays.progress(id, { rowsDone: done, total, at: now() });
    await stillRunning();
    // The bucket starts once the window is counted: time spent counting earns no rows.
    const pace = createReplayPace(now(), job.maxRowsPerS, batchRows);

    const replayBatch = async (batch: ServedRow[]) => {
      const ready = now();
      const wait = pace.reserve(batch.length, ready) - ready;
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      // Whatever the pace, let waiting requests through between two ONNX calls.
      else await yieldToEventLoop();
      // The same model.onnx (a reload of the same file keeps it) or nothing more.
      const current = deps.host.get(job.model, job.candidate);
      if (current?.sha256 !== candidate.sha256) return current ? 'replaced' : 'unloaded';
      const replayed = await replayRows(current, id, batch);
      await deps.replays.appendResults(replayed.map((r) => r.result));
      for (const r of replayed) addOutcome(tally, r.outcome);
      done += batch.length;
      return undefined;
    };

    let stop: Stop | undefined;
    reading: for await (const page of readServedRows(deps.rows, range, pageRows)) {
      for (let start = 0; start < page.length; start += batchRows) {
        stop = stopRequested.get(id);
        if (stop) break reading;
        const room = total - done;
        if (room <= 0) break reading;
        stop = await replayBatch(page.slice(start, start + Math.min(batchRows, room)));
        if (stop) break reading;
        if (now() - lastProgress >= PROGRESS_EVERY_MS) {
          lastProgress = now();
          // Not running any more: cancelled (maybe on another replica) or declared abandoned.
          if (!(await stillRunning())) {
            stop = 'cancelled';
            break reading;
          }
        }
      }
    }
    await settle(job, tally, done, total, stop);
  };

  const failureOf = (job: ReplayRecord, stop: Stop, done: number, total: number) => {
    const after = `after ${done} of ${total} rows`;
    const name = `${job.model}/${job.candidate}`;
    if (stop === 'unloaded') return `candidate ${name} was unloaded ${after}`;
    if (stop === 'replaced') return `candidate ${name} was replaced (another model.onnx) ${after}`;
    return `the gateway stopped ${after}`;
  };

  const settle = async (
    job: ReplayRecord,
    tally: ReplayTally,
    done: number,
    total: number,
    stop: Stop | undefined,
  ) => {
    const { id } = job;
    const report = replayReport(tally);
    if (stop !== undefined && stop !== 'cancelled') {
      const failed = await deps.replays.finish(id, {
        status: 'failed',
        rowsDone: done,
        report,
        error: failureOf(job, stop, done, total),
        at: now(),
      });
      if (!failed) await deps.replays.attachReport(id, done, report);
      return;
    }
    const finished =
      stop === undefined &&
      (await deps.replays.finish(id, {
        status: 'done',
        rowsDone: done,
        report,
        error: null,
        at: now(),
      }));
    // Cancelled, or declared abandoned, part-way: keep what the rows so far showed.
    if (!finished) await deps.replays.attachReport(id, done, report);
  };

  const enqueue = (record: ReplayRecord) => {
    held.push(record.id);
    queue = queue.then(async () => {
      try {
        if (closing) {
          // Through running, so the one compare-and-set that ends a job ends this one.
          if (await deps.replays.start(record.id, now())) {
            await deps.replays.finish(record.id, {
              status: 'failed',
              rowsDone: 0,
              report: null,
              error: 'the gateway stopped before this replay started',
              at: now(),
            });
          }
          return;
        }
        await runJob(record.id);
      } catch (error) {
        deps.onError(error, record);
        await deps.replays
          .finish(record.id, {
            status: 'failed',
            rowsDone: 0,
            report: null,
            error: error instanceof Error ? error.message : String(error),
            at: now(),
          })
          .catch(() => {});
      } finally {
        held.splice(held.indexOf(record.id), 1);
        stopRequested.delete(record.id);
      }
    });
  };

  const find = async (id: string) => {
    const record = await deps.replays.get(id);
    if (!record) throw notFound(`replay "${id}" not found`);
    return record;
  };

  return {
    async submit(request) {
      const live = deps.liveVersion(request.model);
      if (live === undefined) throw modelNotFound(request.model);
      const candidate = deps.host.require(request.model, request.candidate);
      const served = deps.host.get(request.model, live);
      if (served && served.task !== candidate.task) {
        throw conflict(
          `candidate: ${request.model}/${request.candidate} is a ${candidate.task} model and the live ${live} a ${served.task} one; their answers cannot be compared`,
        );
      }
      if (closing) throw conflict('the gateway is stopping; submit the replay to another one');
      await deps.flushLog();
      const at = now();
      const record: ReplayRecord = {
        id: uuidv7(),
        model: request.model,
        candidate: request.candidate,
        since: request.since,
        until: request.until,
        limitRows: request.limit,
        maxRowsPerS: deps.maxRowsPerS,
        status: 'queued',
        rowsDone: 0,
        total: null,
        report: null,
        error: null,
        createdAt: at,
        startedAt: null,
        finishedAt: null,
        heartbeatAt: at,
      };
      await deps.replays.create(record);
      enqueue(record);
      return view(record);
    },
    async get(id) {
      await sweepAbandoned();
      return view(await find(id));
    },
    async list(model, limit) {
      await sweepAbandoned();
      return (await deps.replays.list(model, limit)).map(view);
    },
    async cancel(id) {
      await find(id);
      if (held.includes(id)) stopRequested.set(id, 'cancelled');
      const record = await deps.replays.cancel(id, now());
      if (!record) throw notFound(`replay "${id}" not found`);
      return view(record);
    },
    async close(deadline = Number.POSITIVE_INFINITY) {
      closing = true;
      clearInterval(heartbeat);
      for (const id of held) stopRequested.set(id, 'closing');
      let timer: NodeJS.Timeout | undefined;
      const deadlinePassed = new Promise<void>((resolve) => {
        if (Number.isFinite(deadline))
          timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      });
      await Promise.race([queue, deadlinePassed]);
      clearTimeout(timer);
    },
  };
}
