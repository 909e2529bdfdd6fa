/**
 * Where a version's ONNX session runs: inline on the main thread, or on a worker thread of its
 * own (inference-worker.ts). Both take and return ort.Tensor so the code above does not know
 * which it has. A worker that dies fails the calls it held (the caller answers 500 and logs an
 * error row) and is started again for the next call: one bad run does not take the version down.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type * as ort from 'onnxruntime-node';
import {
  fromWire,
  toWire,
  type WireRequest,
  type WireResponse,
  type WorkerHello,
  type WorkerInit,
} from './worker-wire.js';

export type Feeds = Record<string, ort.Tensor>;
export type Results = Record<string, ort.Tensor>;

export interface TensorRunner {
  readonly kind: 'inline' | 'worker';
  run(feeds: Feeds, fetches: readonly string[]): Promise<Results>;
  release(): Promise<void>;
}

export function inlineRunner(session: ort.InferenceSession): TensorRunner {
  return {
    kind: 'inline',
    run: (feeds, fetches) => session.run(feeds, [...fetches]),
    release: () => session.release(),
  };
}

function spawnInferenceWorker(init: WorkerInit): Worker {
  const compiled = new URL('./inference-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return new Worker(compiled, { workerData: init });
  // Running from source (tests, `npm run dev`): tsx's loader hooks are not inherited by
  // workers on Node 20, so the worker registers them itself before importing the .ts file.
  const source = JSON.stringify(new URL('./inference-worker.ts', import.meta.url).href);
  return new Worker(
    `import('tsx/esm/api').then(({ register }) => { register(); return import(${source}); })`,
    { eval: true, workerData: init },
  );
}

interface Call {
  resolve: (results: Results) => void;
  reject: (error: Error) => void;
}

/** Starts a worker holding its own session; resolves once the session is created there. */
export async function startWorkerRunner(init: WorkerInit): Promise<TensorRunner> {
  const calls = new Map<number, Call>();
  let nextId = 0;
  let released = false;
  /** The worker the calls go to; a dead one is forgotten so the next call starts another. */
  let active: Worker | undefined;

  const start = (): Promise<Worker> =>
    new Promise<Worker>((resolve, reject) => {
      const worker = spawnInferenceWorker(init);
      let ready = false;
      worker.on('message', (message: WorkerHello | WireResponse) => {
        if ('ready' in message) {
          if (message.ready) {
            ready = true;
            resolve(worker);
          } else {
            reject(new Error(`inference worker could not create its session: ${message.error}`));
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
          call.resolve(results);
        }
      });
      const failAll = (why: string) => {
        if (!ready) reject(new Error(`inference worker failed to start: ${why}`));
        const error = new Error(`inference worker stopped: ${why}`);
        for (const call of calls.values()) call.reject(error);
        calls.clear();
        // The next call starts a fresh worker; a released runner stays stopped.
        if (!released && active === worker) {
          active = undefined;
          current = undefined;
        }
      };
      worker.once('error', (error) => failAll(error.message));
      worker.once('exit', (code) => failAll(`exit code ${code}`));
      active = worker;
    });

  let current: Promise<Worker> | undefined = start();
  await current;

  return {
    kind: 'worker',
    async run(feeds, fetches) {
      if (released) throw new Error('inference worker released');
      current ??= start();
      const worker = await current;
      const id = nextId++;
      const request: WireRequest = {
        id,
        feeds: Object.fromEntries(Object.entries(feeds).map(([n, t]) => [n, toWire(t)])),
        fetches: [...fetches],
      };
      return new Promise<Results>((resolve, reject) => {
        calls.set(id, { resolve, reject });
        worker.postMessage(request);
      });
    },
    async release() {
      released = true;
      const worker = await current?.catch(() => undefined);
      await worker?.terminate();
    },
  };
}
