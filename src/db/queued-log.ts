import { backoff } from '../backoff.js';
import { AppError } from '../errors.js';
import type { PredictionLog, PredictionLogOptions, PredictionRecord } from './predictions.js';

/** What a storage supplies: one transaction's worth of rows, committed or thrown. */
export interface LogWriter {
  /**
   * Commits `rows` in one transaction, skipping ids already logged: a retry after a
   * commit whose answer was lost, or a spill file replayed twice, writes nothing twice.
   * Returns the rows the database would not take at all (none, or nothing, normally).
   */
  write(rows: readonly PredictionRecord[]): Promise<RejectedRows> | RejectedRows;
  /** The most rows one write takes; a longer queue takes several. */
  readonly maxRows: number;
}

/** Rows a committed write left out because the database refused them as they are. */
export type RejectedRows = readonly PredictionRecord[] | undefined;

/** Told about every attempt, for readiness: the last failure's cause, and recovery. */
export interface LogObserver {
  failed(error: unknown): void;
  recovered(): void;
  /** A prediction was turned away for want of room, until the next successful write. */
  refused(): void;
}

export interface QueuedLogOptions extends PredictionLogOptions {
  observer?: LogObserver;
}

const FIRST_RETRY_MS = 100;
const LAST_RETRY_MS = 2_000;
/** close() without a deadline: MODELGATE_SHUTDOWN_TIMEOUT's default. */
const DEFAULT_DRAIN_MS = 30_000;

interface Waiter {
  /** Resolve once this many rows (counted since start) are committed. */
  rows: number;
  resolve(): void;
  reject(error: unknown): void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The prediction log's queue, for either storage. `append` only pushes to memory; rows
 * are committed in order, one write at a time, every chunk until the queue is empty.
 * A failed write puts its rows back at the front and is retried with backoff; while
 * writes fail rows wait (never dropped) up to `maxQueue`, and past that `append`
 * refuses with a 503, so no prediction is ever answered without its row.
 */
export function createQueuedLog(writer: LogWriter, options: QueuedLogOptions): PredictionLog {
  const { observer } = options;
  let queue: PredictionRecord[] = [];
  /** Rows taken from the front of the queue by the write in flight. */
  let writing: readonly PredictionRecord[] = [];
  let accepted = 0;
  let committed = 0;
  let rejected = 0;
  /** Of `rejected`, those from the queue (not from replay): not in rowsWritten. */
  let rejectedFromQueue = 0;
  let waiters: Waiter[] = [];
  /** Predictions waiting for the queue to fall back under `roomRows` (see PredictionLog.room). */
  let roomWaiters: Array<() => void> = [];
  const roomRows = roomRowsFor(options);
  let inFlight: Promise<boolean> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  const retry = backoff({ firstMs: FIRST_RETRY_MS, lastMs: LAST_RETRY_MS });
  /** Failed attempts in the current burst; 0 while writes succeed. */
  let failures = 0;
  let closed = false;
  /** Set when close() hands the rows over at its deadline: nothing is written after. */
  let abandoned = false;

  const depth = () => queue.length + writing.length;

  /** Answers the waiting predictions once there is room again, or once waiting is pointless. */
  const releaseRoom = (): void => {
    if (roomWaiters.length === 0) return;
    if (depth() > roomRows && failures === 0 && !closed) return;
    const released = roomWaiters;
    roomWaiters = [];
    for (const resolve of released) resolve();
  };

  const countRejected = (rows: RejectedRows): void => {
    if (!rows || rows.length === 0) return;
    rejected += rows.length;
    options.onRowsRejected?.(rows);
  };

  const clearTimers = (): void => {
    if (timer) clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
    timer = undefined;
    immediate = undefined;
  };

  /** Writes the front of the queue; settles the waiters it satisfies (or, failing, all). */
  const writeOnce = async (): Promise<boolean> => {
    clearTimers();
    if (queue.length === 0 || abandoned) return true;
    const batch = queue.splice(0, writer.maxRows);
    writing = batch;
    let left: RejectedRows;
    try {
      left = await writer.write(batch);
    } catch (error) {
      writing = [];
      if (abandoned) return false; // close() already counted these rows as unwritten
      // Back to the front, in order: the next attempt writes them first.
      queue = batch.concat(queue);
      failures += 1;
      observer?.failed(error);
      // One warning per burst, not one per retry.
      if (failures === 1) options.onError?.(error, depth());
      const failed = waiters;
      waiters = [];
      const unavailable = new AppError(
        503,
        'unavailable',
        `prediction log: cannot write (${messageOf(error)}); ${depth()} rows wait`,
        { cause: error },
      );
      for (const waiter of failed) waiter.reject(unavailable);
      releaseRoom();
      return false;
    }
    writing = [];
    // Rejected rows are settled for flush() too: the queue moves past them.
    committed += batch.length;
    rejectedFromQueue += left?.length ?? 0;
    countRejected(left);
    retry.reset();
    if (failures > 0) {
      options.onRecovered?.(failures);
      failures = 0;
    }
    observer?.recovered();
    const done = waiters.filter((w) => w.rows <= committed);
    waiters = waiters.filter((w) => w.rows > committed);
    for (const waiter of done) waiter.resolve();
    releaseRoom();
    return true;
  };

  /** Starts a write unless one is running; schedules the next one after it. */
  const kick = (): Promise<boolean> => {
    if (inFlight) return inFlight;
    const run = writeOnce().then((ok) => {
      inFlight = undefined;
      afterWrite(ok);
      return ok;
    });
    inFlight = run;
    return run;
  };

  const later = (ms: number): void => {
    timer ??= setTimeout(() => {
      timer = undefined;
      void kick();
    }, ms);
  };
  const soon = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    immediate ??= setImmediate(() => {
      immediate = undefined;
      void kick();
    });
  };

  const afterWrite = (ok: boolean): void => {
    if (closed || queue.length === 0) return;
    if (!ok) later(retry.next());
    else if (waiters.length > 0 || queue.length >= options.flushRows) soon();
    else later(options.flushMs);
  };

  /** Resolves when the rows accepted so far are committed; rejects on the first failed attempt. */
  const flushAccepted = (): Promise<void> => {
    if (committed >= accepted) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => {
      waiters.push({ rows: accepted, resolve, reject });
    });
    if (!inFlight) void kick();
    return done;
  };

  /** Writes until the queue is empty, retrying with backoff; false if `deadline` came first. */
  const drain = async (deadline: number): Promise<boolean> => {
    for (;;) {
      const ok = await kick();
      if (abandoned) return false;
      if (ok && queue.length === 0) return true;
      if (!ok) {
        const pause = Math.min(retry.next(), deadline - Date.now());
        if (pause <= 0) return false;
        await sleep(pause);
      }
    }
  };

  return {
    append(records) {
      if (closed) {
        throw new AppError(503, 'unavailable', 'prediction log: closed, not accepting predictions');
      }
      if (depth() + records.length > options.maxQueue) {
        observer?.refused();
        throw new AppError(
          503,
          'unavailable',
          `prediction log: ${depth()} rows wait for the database; not accepting more predictions until they are written`,
        );
      }
      for (const record of records) queue.push(record);
      accepted += records.length;
      // The running write or the pending retry picks them up.
      if (inFlight || (failures > 0 && timer)) return;
      // At flushRows: let the current request finish answering before paying for the write.
      if (queue.length >= options.flushRows) soon();
      else later(options.flushMs);
    },
    get queueDepth() {
      return depth();
    },
    get rowsWritten() {
      return committed - rejectedFromQueue;
    },
    get rowsRejected() {
      return rejected;
    },
    flush: flushAccepted,
    room() {
      if (depth() <= roomRows || failures > 0 || closed) return undefined;
      return new Promise<void>((resolve) => roomWaiters.push(resolve));
    },
    async close(deadline = Date.now() + DEFAULT_DRAIN_MS) {
      if (closed) return [];
      closed = true;
      clearTimers();
      releaseRoom();
      let timeout: NodeJS.Timeout | undefined;
      // A write that hangs (a database that stopped answering) must not hold the
      // process past its deadline: its rows are handed back too. Replaying them is
      // safe even if the write commits after all, since ids are unique.
      const deadlinePassed = new Promise<false>((resolve) => {
        timeout = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
      });
      const drained = await Promise.race([drain(deadline), deadlinePassed]);
      clearTimeout(timeout);
      if (drained) return [];
      abandoned = true;
      const unwritten = [...writing, ...queue];
      writing = [];
      queue = [];
      return unwritten;
    },
    async replay(rows) {
      for (let start = 0; start < rows.length; start += writer.maxRows) {
        countRejected(await writer.write(rows.slice(start, start + writer.maxRows)));
      }
    },
  };
}

/**
 * How deep the queue may grow before predictions wait for it: a tenth of `maxQueue`
 * (10,000 rows by default, ~0.1 s of a log writer's commits), and never under two
 * flushes, so ordinary traffic never waits. When that would pass `maxQueue` itself
 * (a small test queue) predictions never wait and the 503 rule alone applies.
 */
export function roomRowsFor(options: Pick<PredictionLogOptions, 'flushRows' | 'maxQueue'>): number {
  return Math.max(options.flushRows * 2, Math.floor(options.maxQueue / 10));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
