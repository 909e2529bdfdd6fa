/**
 * npx tsx scripts/bench/worker-experiment.ts [--duration 10] [--connections 64]
 *
 * Experiment for issue 7 (not wired into the gateway): does a worker_threads pool
 * (one InferenceSession per worker, intraOpNumThreads 1) beat the in-process
 * batched path for iris on this machine? The same file is the driver and, with
 * EXPERIMENT_MODE set, the server it starts as a child process.
 */
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import * as ort from 'onnxruntime-node';
import { createBatcher } from '../../src/models/batcher.js';
import { drive } from './load.js';
import { startServer } from './servers.js';

const MODES = ['inline', 'batched', 'workers-2', 'workers-batched-1', 'workers-batched-2'];
const dir = new URL('../../models/iris/v1/', import.meta.url);
const FEATURES = 4;
const CLASSES = 3;
const LABELS = ['setosa', 'versicolor', 'virginica'];

type Run = (features: Float32Array, rows: number) => Promise<Float32Array>;

async function session(): Promise<Run> {
  const s = await ort.InferenceSession.create(new URL('model.onnx', dir).pathname, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  return async (features, rows) => {
    const out = await s.run({ input: new ort.Tensor('float32', features, [rows, FEATURES]) });
    return out.probabilities?.data as Float32Array;
  };
}

/** Plain CommonJS so the worker needs no TypeScript loader (tsx's hooks do not reach workers). */
const WORKER_SOURCE = `
const ort = require('onnxruntime-node');
const { parentPort, workerData } = require('node:worker_threads');
ort.InferenceSession.create(workerData.model, { intraOpNumThreads: 1, interOpNumThreads: 1 })
  .then((session) => {
    parentPort.on('message', async (m) => {
      const out = await session.run({ input: new ort.Tensor('float32', m.features, [m.rows, 4]) });
      parentPort.postMessage({ id: m.id, probabilities: out.probabilities.data });
    });
    parentPort.postMessage('ready');
  });
`;

/** Round-robin over `size` workers, each with its own session. */
async function pool(size: number): Promise<Run> {
  const model = new URL('model.onnx', dir).pathname;
  const workers = Array.from(
    { length: size },
    () => new Worker(WORKER_SOURCE, { eval: true, workerData: { model } }),
  );
  const waiting = new Map<number, (p: Float32Array) => void>();
  let nextId = 0;
  let turn = 0;
  await Promise.all(
    workers.map(
      (worker) =>
        new Promise<void>((resolve) => {
          worker.once('message', () => resolve());
          worker.on('message', (m: { id: number; probabilities: Float32Array }) => {
            waiting.get(m.id)?.(m.probabilities);
            waiting.delete(m.id);
          });
        }),
    ),
  );
  return (features, rows) =>
    new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      workers[turn++ % size]?.postMessage({ id, features, rows });
    });
}

async function server(mode: string): Promise<void> {
  const batch = { windowUs: 500, maxRows: 1000 };
  // The gateway's batcher over one FP32 input, around a plain features → probabilities run.
  const batched = (inner: Run): Run => {
    const run = createBatcher(
      async (inputs, rows) => ({
        scores: await inner(inputs[0] as Float32Array, rows),
        labels: null,
      }),
      ['FP32'],
      CLASSES,
      batch,
    );
    return async (features, rows) => (await run([features], rows)).scores as Float32Array;
  };
  const run: Run =
    mode === 'inline'
      ? await session()
      : mode === 'batched'
        ? batched(await session())
        : mode === 'workers-2'
          ? await pool(2)
          : batched(await pool(mode.endsWith('2') ? 2 : 1));
  const app = new Hono();
  app.post('/predict', async (c) => {
    const inputs = (await c.req.json<{ inputs: Record<string, number> }>()).inputs;
    const row = Float32Array.of(
      inputs.sepal_length ?? 0,
      inputs.sepal_width ?? 0,
      inputs.petal_length ?? 0,
      inputs.petal_width ?? 0,
    );
    const p = await run(row, 1);
    const best = p.indexOf(Math.max(...p));
    return c.json({ label: LABELS[best], probabilities: Array.from(p) });
  });
  const http = serve(
    { fetch: app.fetch, port: Number(process.env.PORT), hostname: '127.0.0.1' },
    () => process.stdout.write(`${mode} listening\n`),
  );
  process.once('SIGINT', () => {
    http.close();
    process.exit(0);
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '64' },
    },
  });
  const duration = Number(values.duration);
  const connections = Number(values.connections);
  process.stdout.write(
    `mode                 req/s   p50 ms   p99 ms   (c=${connections}, ${duration} s)\n`,
  );
  for (const mode of MODES) {
    const child = await startServer({
      name: mode,
      script: 'scripts/bench/worker-experiment.ts',
      env: { EXPERIMENT_MODE: mode },
    });
    try {
      await drive(`${child.url}/predict`, connections, 1);
      const r = await drive(`${child.url}/predict`, connections, duration);
      const bad =
        r.non2xx + r.errors + r.timeouts > 0 ? `  !!! ${r.non2xx} non-2xx, ${r.errors} errors` : '';
      process.stdout.write(
        `${mode.padEnd(18)} ${r.rps.toFixed(0).padStart(7)} ${r.p50Ms.toFixed(2).padStart(8)} ${r.p99Ms.toFixed(2).padStart(8)}${bad}\n`,
      );
    } finally {
      await child.stop();
    }
  }
}

if (process.env.EXPERIMENT_MODE) {
  await server(process.env.EXPERIMENT_MODE);
} else {
  await main();
}
