/**
 * Where a version's ONNX session runs: inline on the main thread, or on a worker thread of its
 * own (inference-worker.ts). Both take and return ort.Tensor so the code above does not know
 * which it has. A worker that stops (an uncaught error, `process.exit` called on it, out of
 * memory) fails the calls it held at once (the caller answers 500 and logs an error row), is reported,
 * and a new one is started after a backoff pause: one bad run does not take the version down,
 * and a worker that dies on every start does not spin.
 */
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import type * as ort from 'onnxruntime-node';
import { backoff } from '../backoff.js';
import { spawnWorker } from '../spawn-worker.js';
import {
  fromWire,
  toWire,
  type WireClose,
  type WireRequest,
  type WireResponse,
  type WorkerHello,
  type WorkerInit,
} from './worker-wire.js';

export type Feeds = Record<string, ort.Tensor>;
export type Results = Record<string, ort.Tensor>;

/** A worker runner's state, for GET /models and readiness. */
export interface WorkerHealth {
  /** A worker is up and taking calls (false while one is being started again). */
  running: boolean;
  /** Workers started because the one before stopped. */
  restarts: number;
  /** Calls sent to the worker and not yet answered. */
  callsInFlight: number;
  /** The last unexpected stop: when, why, and how many calls it failed. */
  lastStop: { at: string; reason: string; callsFailed: number } | null;
}

export interface TensorRunner {
  readonly kind: 'inline' | 'worker';
  run(feeds: Feeds, fetches: readonly string[]): Promise<Results>;
  release(): Promise<void>;
  /** null for an inline runner. */
  health(): WorkerHealth | null;
}

export function inlineRunner(session: ort.InferenceSession): TensorRunner {
  return {
    kind: 'inline',
    run: (feeds, fetches) => session.run(feeds, [...fetches]),
    release: () => session.release(),
    health: () => null,
  };
}

export interface WorkerRunnerOptions {
  /** Told once per unexpected stop, with the calls it failed. */
  onStopped?: (reason: string, callsFailed: number) => void;
}

/** A restart waits this long after a stop, doubling while starts keep failing. */
const FIRST_RESTART_MS = 50;
const LAST_RESTART_MS = 5_000;

/** Set by the test seam below; taken by the next call of any worker runner. */
let exitOnNextCall: number | undefined;

/**
 * Test seam: the next call sent to an inference worker makes that worker call
 * `process.exit(code)` instead of running, so the call is in flight when the worker dies.
 * Reachable only by importing it; no route or setting calls it. (Worker.terminate() is no
 * substitute: onnxruntime-node aborts the whole process when a thread is terminated inside
 * `session.run`.)
 */
export function exitInferenceWorkerOnNextCallForTests(code = 70): void {
  exitOnNextCall = code;
}

function spawnInferenceWorker(init: WorkerInit): Worker {
  return spawnWorker(new URL('./inference-worker.js', import.meta.url), { workerData: init });
}

interface Call {
  resolve: (results: Results) => void;
  reject: (error: Error) => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts a worker holding its own session; resolves once the session is created there. */
export async function startWorkerRunner(
  init: WorkerInit,
  options: WorkerRunnerOptions = {},
): Promise<TensorRunner> {
  const calls = new Map<number, Call>();
  let nextId = 0;
  let released = false;
  let running = false;
  let restarts = 0;
  let lastStop: WorkerHealth['lastStop'] = null;
  const retry = backoff({ firstMs: FIRST_RESTART_MS, lastMs: LAST_RESTART_MS });

  /** False until the first worker is up: a first start that fails is the loader's to report. */
  let serving = false;

  const start = (): Promise<Worker> =>
    new Promise<Worker>((resolve, reject) => {
      const worker = spawnInferenceWorker(init);
      let ready = false;
      let stopped = false;
      let sessionError: string | undefined;
      worker.on('message', (message: WorkerHello | WireResponse) => {
        if ('ready' in message) {
          if (message.ready) {
            ready = true;
            running = true;
            resolve(worker);
          } else {
            sessionError = `could not create its session: ${message.error}`;
            void worker.terminate();
          }
          return;
        }
        const call = calls.get(message.id);
        if (!call) return;
        calls.delete(message.id);
        if (message.error !== undefined) call.reject(new Error(message.error));
        else {
          const results: Results = {};
          for (const [name, tensor] of Object.entries(message.outputs)) {
            results[name] = fromWire(tensor);
          }
          // This worker runs: the next stop starts again after the shortest pause.
          retry.reset();
          call.resolve(results);
        }
      });
      const stop = (why: string) => {
        if (stopped) return;
        stopped = true;
        running = false;
        if (!ready) reject(new Error(`inference worker failed to start: ${why}`));
        // Calls go to one worker at a time: every call in flight was this worker's. Failed
        // whatever the stop, a release's too: a call left unsettled would hold its caller
        // (a replay, a request) for good.
        const error = new Error(`inference worker stopped: ${why}`);
        const failed = calls.size;
        for (const call of calls.values()) call.reject(error);
        calls.clear();
        if (released || !serving) return;
        lastStop = { at: new Date().toISOString(), reason: why, callsFailed: failed };
        options.onStopped?.(why, failed);
        restarts += 1;
        // Calls that arrive meanwhile wait for the new worker, or fail with its start.
        const next = sleep(retry.next()).then(() =>
          released ? Promise.reject(new Error('inference worker released')) : start(),
        );
        next.catch(() => {});
        current = next;
      };
      worker.once('error', (error) => stop(error.message));
      worker.once('exit', (code) => stop(sessionError ?? `exit code ${code}`));
    });

  let current: Promise<Worker> = start();
  await current;
  serving = true;

  return {
    kind: 'worker',
    async run(feeds, fetches) {
      if (released) throw new Error('inference worker released');
      const worker = await current;
      const id = nextId++;
      const request: WireRequest = {
        id,
        feeds: Object.fromEntries(Object.entries(feeds).map(([n, t]) => [n, toWire(t)])),
        fetches: [...fetches],
        ...(exitOnNextCall !== undefined ? { exitForTests: exitOnNextCall } : {}),
      };
      exitOnNextCall = undefined;
      return new Promise<Results>((resolve, reject) => {
        calls.set(id, { resolve, reject });
        worker.postMessage(request);
      });
    },
    async release() {
      released = true;
      const worker = await current.catch(() => undefined);
      if (!worker || !running) return;
      // Asked, not terminated: terminating the thread inside session.run aborts the process.
      // The worker answers the runs sent before it, then frees its session and exits.
      const exited = once(worker, 'exit');
      worker.postMessage({ close: true } satisfies WireClose);
      await exited;
    },
    health: () => ({ running, restarts, callsInFlight: calls.size, lastStop }),
  };
}
