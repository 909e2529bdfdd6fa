/**
 * The SQLite prediction log's writer on a thread of its own (log-worker.ts): the transaction
 * that commits a batch (~7 µs of CPU a row with the latency rollup) no longer runs on the
 * event loop every request waits on; handing the rows over costs ~1.2 µs a row there.
 * Queueing, order, retries, flush and drain stay in createQueuedLog on the main thread: this
 * only commits one batch at a time and says which rows were rejected, or throws.
 *
 * A thread that stops (an uncaught error, `process.exit` called in it, out of memory) fails
 * the write in flight at once, which the queue retries (INSERT OR IGNORE: a batch committed
 * just before the stop is not written twice), and a new thread is started after a backoff
 * pause, as worker-runner.ts does for inference workers.
 */
import type { Worker } from 'node:worker_threads';
import { backoff } from '../../backoff.js';
import { spawnWorker } from '../../spawn-worker.js';
import type { PredictionRecord } from '../predictions.js';
import type { LogWriter, RejectedRows } from '../queued-log.js';
import {
  type ExitForTests,
  fromWireError,
  type LogWorkerHello,
  type LogWorkerInit,
  type LogWrite,
  type LogWriteAnswer,
} from './log-thread-wire.js';

/**
 * Rows per transaction on the thread: ~4 ms of commit, so the main connection, which shares
 * the file's write lock and waits for it on the event loop (SERVING_BUSY_TIMEOUT_MS in
 * client.ts), never waits out its timeout behind one. 2,000 rows (the inline writer's) held
 * the lock ~15 ms. Smaller transactions cost little more per row on a thread that is idle
 * most of the time.
 */
export const LOG_ROWS_PER_THREAD_WRITE = 500;

/**
 * How long the thread's transaction waits for the write lock. Waiting freezes no request
 * here, so it rides through the main connection's short transactions (deployments,
 * feedback, retention batches) instead of failing and retrying; a lock held longer (another
 * process: a backup, a shell) still fails the write within a second, and readiness says so.
 */
const THREAD_BUSY_TIMEOUT_MS = 1_000;

const FIRST_RESTART_MS = 50;
const LAST_RESTART_MS = 5_000;

export interface ThreadLogWriter extends LogWriter {
  /** Ends the thread (once the queue has drained, or been given up); resolves when it has exited. */
  stop(): Promise<void>;
}

/** Set by the test seam below; taken by the next write of any log thread. */
let exitOnNextWrite: ExitForTests | undefined;

/**
 * Test seam: the next write sent to a log writer thread makes that thread call
 * `process.exit(code)` before committing it, or after committing it and before answering,
 * so the write is in flight when the thread dies. Reachable only by importing it.
 */
export function exitLogThreadOnNextWriteForTests(exit: ExitForTests): void {
  exitOnNextWrite = exit;
}

interface Pending {
  rows: readonly PredictionRecord[];
  resolve: (rejected: RejectedRows) => void;
  reject: (error: Error) => void;
}

/** Starts the writer thread on the SQLite file at `path` (migrated already). */
export function startThreadLogWriter(path: string): ThreadLogWriter {
  const init: LogWorkerInit = { path, busyTimeoutMs: THREAD_BUSY_TIMEOUT_MS };
  const pending = new Map<number, Pending>();
  let nextId = 0;
  let stopping = false;
  const retry = backoff({ firstMs: FIRST_RESTART_MS, lastMs: LAST_RESTART_MS });
  /** The thread that takes the next write, or its start (rejected if that failed). */
  let current: Promise<Worker>;
  /** Threads that have stopped: a write never goes to one (it would wait for ever). */
  const exited = new WeakSet<Worker>();
  /** Ends the pause before a restart now, when the writer is stopped meanwhile. */
  let cancelRestart: (() => void) | undefined;
  const stoppedError = () => new Error('prediction log writer stopped');

  const restartLater = (): void => {
    current = new Promise<Worker>((resolve, reject) => {
      const timer = setTimeout(() => {
        cancelRestart = undefined;
        start().then(resolve, reject);
      }, retry.next());
      cancelRestart = () => {
        clearTimeout(timer);
        reject(stoppedError());
      };
    });
    current.catch(() => {});
  };

  const start = (): Promise<Worker> =>
    new Promise<Worker>((resolve, reject) => {
      const worker = spawnWorker(new URL('./log-worker.js', import.meta.url), {
        workerData: init,
      });
      let ready = false;
      let stopped = false;
      let openError: Error | undefined;
      worker.on('message', (message: LogWorkerHello | LogWriteAnswer) => {
        if ('ready' in message) {
          if (message.ready) {
            ready = true;
            resolve(worker);
          } else openError = fromWireError(message.error);
          return;
        }
        const write = pending.get(message.id);
        if (!write) return;
        pending.delete(message.id);
        if ('error' in message) return write.reject(fromWireError(message.error));
        // This thread commits: the next stop starts again after the shortest pause.
        retry.reset();
        write.resolve(
          message.rejected.length === 0
            ? undefined
            : message.rejected.map((i) => write.rows[i] as PredictionRecord),
        );
      });
      const stop = (why: string) => {
        if (stopped) return;
        stopped = true;
        exited.add(worker);
        const error = openError ?? new Error(`prediction log writer thread stopped: ${why}`);
        if (!ready) reject(error);
        // One thread at a time: every write in flight was this one's.
        for (const write of pending.values()) write.reject(error);
        pending.clear();
        if (stopping) return;
        // Writes that come meanwhile wait for the new thread, or fail with its start.
        restartLater();
      };
      worker.once('error', (error) => stop(error.message));
      worker.once('exit', (code) => stop(`exit code ${code}`));
    });

  current = start();
  current.catch(() => {});

  return {
    maxRows: LOG_ROWS_PER_THREAD_WRITE,
    async write(rows) {
      if (stopping) throw stoppedError();
      const worker = await current;
      if (exited.has(worker)) throw new Error('prediction log writer thread stopped');
      const id = nextId++;
      const message: LogWrite = {
        id,
        rows,
        ...(exitOnNextWrite !== undefined ? { exitForTests: exitOnNextWrite } : {}),
      };
      exitOnNextWrite = undefined;
      return new Promise<RejectedRows>((resolve, reject) => {
        pending.set(id, { rows, resolve, reject });
        worker.postMessage(message);
      });
    },
    async stop() {
      stopping = true;
      cancelRestart?.();
      const worker = await current.catch(() => undefined);
      // Terminated mid-commit (a write given up at the deadline), SQLite rolls the
      // transaction back as the thread's connection closes; those rows were handed back.
      await worker?.terminate();
    },
  };
}
