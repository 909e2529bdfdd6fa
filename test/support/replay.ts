import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { createRandom as seededRandom } from '../../scripts/examples/prng.js';
import type { PredictionRecord } from '../../src/db/predictions.js';
import type { ReplayStatus, ReplayStore } from '../../src/db/replays.js';
import type { ReplayJob } from './replay-responses.js';
import { BUNDLED_MODELS, type TestGateway } from './test-gateway.js';

export const IRIS_FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
export const IRIS_LABELS = ['setosa', 'versicolor', 'virginica'];

/**
 * Iris-like rows spread over the whole range of each feature (two decimals, as people
 * send them): many fall near the versicolor/virginica boundary, where models differ.
 */
export function irisRows(n: number, seed: number): Array<Record<string, number>> {
  const random = seededRandom(seed);
  const ranges: Array<[number, number]> = [
    [4.3, 7.9],
    [2.0, 4.4],
    [1.0, 6.9],
    [0.1, 2.5],
  ];
  return Array.from({ length: n }, () =>
    Object.fromEntries(
      IRIS_FEATURES.map((feature, j) => {
        const [low, high] = ranges[j] as [number, number];
        return [feature, Math.round((low + random() * (high - low)) * 100) / 100];
      }),
    ),
  );
}

/** Serves `rows` seeded iris rows through /predict and commits them: the window they are logged in. */
export async function serveIrisRows(
  gw: TestGateway,
  rows: number,
  seed: number,
): Promise<{ from: number; until: number }> {
  const from = Date.now();
  const res = await gw.post('/predict/iris', { instances: irisRows(rows, seed) });
  expect(res.status).toBe(200);
  await gw.gate.flushLog();
  return { from, until: Date.now() + 1 };
}

/**
 * The label a bundled iris version gives each row, computed here straight from its
 * model.onnx with onnxruntime-node (argmax of `probabilities`), not through the gateway.
 */
export async function labelsFromOnnx(
  version: string,
  rows: ReadonlyArray<Record<string, number>>,
): Promise<string[]> {
  const session = await ort.InferenceSession.create(
    join(BUNDLED_MODELS, 'iris', version, 'model.onnx'),
  );
  try {
    const data = new Float32Array(rows.flatMap((row) => IRIS_FEATURES.map((f) => row[f] ?? 0)));
    const result = await session.run({ input: new ort.Tensor('float32', data, [rows.length, 4]) });
    const p = result.probabilities?.data as Float32Array;
    return rows.map((_, i) => {
      let best = 0;
      for (let k = 1; k < 3; k++)
        if ((p[i * 3 + k] as number) > (p[i * 3 + best] as number)) best = k;
      return IRIS_LABELS[best] as string;
    });
  } finally {
    await session.release();
  }
}

/** A served iris row for a seeded log. */
export function servedRecord(
  id: string,
  ts: number,
  input: Record<string, unknown>,
  label: string | null,
  fields: Partial<PredictionRecord> = {},
): PredictionRecord {
  return {
    id,
    ts,
    model: 'iris',
    version: 'v1',
    route: 'live',
    userHash: null,
    requestId: `req-${id}`,
    input: JSON.stringify(input),
    output: null,
    label,
    score: 0.9,
    latencyUs: 100,
    status: 'ok',
    error: null,
    shadowOf: null,
    ...fields,
  };
}

/** Polls GET /control/replay/:id until the job is in `status`; returns the job. */
export async function waitForReplay(
  get: (id: string) => Promise<ReplayJob>,
  id: string,
  status: ReplayJob['status'] | Array<ReplayJob['status']> = 'done',
  timeout = 60_000,
): Promise<ReplayJob> {
  const wanted: string[] = Array.isArray(status) ? status : [status];
  let job: ReplayJob | undefined;
  await expect
    .poll(
      async () => {
        job = await get(id);
        return job.status;
      },
      { timeout, interval: 100 },
    )
    .toSatisfy((s: string) => wanted.includes(s));
  if (!job) throw new Error(`replay ${id}: never read`);
  return job;
}

/** The jobs `seedRetentionReplays` writes, by what retention must do with each. */
export const RETENTION_JOBS = {
  /** Finished before the horizon: retention deletes them with their results. */
  expired: ['old-done', 'old-cancelled', 'old-failed'],
  /** Not finished (running, queued) however old, or finished after the horizon: kept. */
  kept: ['old-running', 'old-queued', 'recent-done'],
} as const;

/**
 * Replay jobs straight into a store, each with result rows, for the retention tests: three
 * that finished at `oldAt` (250 results, more than a batch; 3; none), a running and a
 * queued one created at `oldAt`, and one that finished at `recentAt`. Returns the results
 * written per job.
 */
export async function seedRetentionReplays(
  store: ReplayStore,
  oldAt: number,
  recentAt: number,
): Promise<Record<string, number>> {
  const jobs: Array<[string, ReplayStatus, number | null, number]> = [
    ['old-done', 'done', oldAt, 250],
    ['old-cancelled', 'cancelled', oldAt + 1, 3],
    ['old-failed', 'failed', oldAt + 2, 0],
    ['old-running', 'running', null, 40],
    ['old-queued', 'queued', null, 0],
    ['recent-done', 'done', recentAt, 5],
  ];
  const written: Record<string, number> = {};
  for (const [id, status, finishedAt, results] of jobs) {
    await store.create({
      id,
      model: 'iris',
      candidate: 'v2',
      since: oldAt - 86_400_000,
      until: oldAt,
      limitRows: null,
      maxRowsPerS: 2000,
      status,
      rowsDone: results,
      total: results,
      report: null,
      error: status === 'failed' ? 'boom' : null,
      createdAt: oldAt - 1000,
      startedAt: status === 'queued' ? null : oldAt - 1000,
      finishedAt,
      // Alive as far as any replica can tell, so no read declares the running one abandoned.
      heartbeatAt: recentAt,
    });
    await store.appendResults(
      Array.from({ length: results }, (_, i) => ({
        replayId: id,
        predictionId: `${id}-row-${i}`,
        ts: oldAt - 1000 + i,
        servedVersion: 'v1',
        servedLabel: 'setosa',
        servedValue: null,
        candidateLabel: 'setosa',
        candidateValue: null,
        latencyUs: 5,
        status: 'ok' as const,
        error: null,
      })),
    );
    written[id] = results;
  }
  return written;
}

/** Each seeded job's results still stored (undefined: the job itself is gone). */
export async function retainedReplays(
  store: ReplayStore,
): Promise<Record<string, number | undefined>> {
  const left: Record<string, number | undefined> = {};
  for (const id of [...RETENTION_JOBS.expired, ...RETENTION_JOBS.kept]) {
    const job = await store.get(id);
    const results = (await store.results(id)).length;
    // A job gone with results left behind would be a leak: report it as -results.
    left[id] = job ? results : results > 0 ? -results : undefined;
  }
  return left;
}
