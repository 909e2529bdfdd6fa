import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import type { PredictionRecord } from '../../src/db/predictions.js';
import type { ReplayJob } from './replay-responses.js';
import { BUNDLED_MODELS } from './test-gateway.js';

export const IRIS_FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
export const IRIS_LABELS = ['setosa', 'versicolor', 'virginica'];

/** mulberry32: a small seeded generator, so every run replays the same rows. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
