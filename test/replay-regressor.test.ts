import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { treeRegressor, treeRegressorValue, writeVersion } from './support/converter-graphs.js';
import { normalMeanInterval } from './support/mean-intervals.js';
import { waitForReplay } from './support/replay.js';
import { readReplay, regressorReport } from './support/replay-responses.js';
import { present, readModels, readValuePrediction } from './support/responses.js';
import { createTestGateway, type TestGateway } from './support/test-gateway.js';

/** Two tree regressors (TreeEnsembleRegressor): a row's value is its leaf's. */
const LEAVES = { v1: [100, 200, 300], v2: [110, 190, 330] } as const;
/** x0 ≤ 10 → first leaf, x1 ≤ 5 → second, else third: 1, 12 and 7 rows. */
const ROWS = [
  [1, 0],
  ...Array.from({ length: 12 }, () => [20, 1]),
  ...Array.from({ length: 7 }, () => [20, 9]),
];
/** Feedback: the true value, known for the first 16 rows only. */
const truth = (i: number) => [104, 98, 195, 330][i % 4] as number;
const LABELLED = 16;

let dir: string;
let gw: TestGateway;
let since: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'modelgate-replay-regressor-'));
  const modelsDir = join(dir, 'models');
  writeVersion(modelsDir, 'price', 'v1', treeRegressor(LEAVES.v1));
  writeVersion(modelsDir, 'price', 'v2', treeRegressor(LEAVES.v2));
  // The candidate on a worker thread: replay uses its session there, not the live batcher.
  gw = await createTestGateway({
    dir,
    env: { MODELGATE_MODELS_DIR: modelsDir, MODELGATE_INFERENCE_WORKER: 'on' },
  });
  const { models } = await readModels(await gw.request('/models'));
  const price = present(models.find((m) => m.name === 'price'));
  for (const version of price.versions) expect(version.inference?.placement).toBe('worker');
  since = Date.now();
  const res = await gw.post('/predict/price', { inputs: ROWS });
  expect(res.status).toBe(200);
  const { predictionIds, version } = await readValuePrediction(res);
  expect(version).toBe('v1');
  for (const [i, predictionId] of present(predictionIds).entries()) {
    if (i >= LABELLED) break;
    expect((await gw.post('/feedback', { predictionId, value: truth(i) })).status).toBe(200);
  }
}, 60_000);
afterAll(async () => {
  await gw?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('replay of a regressor', () => {
  it('reports candidate − served per row, and both errors on the rows with feedback', async () => {
    const res = await gw.control('POST', '/control/replay', {
      model: 'price',
      candidate: 'v2',
      since,
    });
    expect(res.status).toBe(202);
    const { id } = await readReplay(res);
    const job = await waitForReplay(
      async (replay) => readReplay(await gw.control('GET', `/control/replay/${replay}`)),
      id,
    );
    const report = regressorReport(job);
    const served = ROWS.map((row) => treeRegressorValue(row, LEAVES.v1));
    const candidate = ROWS.map((row) => treeRegressorValue(row, LEAVES.v2));
    const differences = candidate.map((c, i) => c - (served[i] as number));
    expect(report.task).toBe('regression');
    expect(report.agreement).toBeNull();
    expect(report.rows).toEqual({ read: 20, replayed: 20, failed: 0, skipped: 0 });
    // +10 on one row, −10 on twelve, +30 on seven.
    expect(report.difference).toEqual({
      rows: 20,
      meanAbsolute: differences.reduce((a, d) => a + Math.abs(d), 0) / 20,
      meanRelative:
        differences.reduce((a, d, i) => a + Math.abs(d) / (served[i] as number), 0) / 20,
      relativeRows: 20,
      quantiles: { p5: -10, p50: -10, p95: 30 },
    });
    expect(report.difference.meanAbsolute).toBeCloseTo(17, 12);

    const errors = (values: number[]) => values.slice(0, LABELLED).map((v, i) => v - truth(i));
    const servedErrors = errors(served);
    const candidateErrors = errors(candidate);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const feedback = present(report.feedback);
    expect(feedback.rows).toBe(LABELLED);
    expect(feedback.served.mae).toBeCloseTo(mean(servedErrors.map(Math.abs)), 9);
    expect(feedback.served.rmse).toBeCloseTo(Math.sqrt(mean(servedErrors.map((e) => e * e))), 9);
    expect(feedback.candidate.mae).toBeCloseTo(mean(candidateErrors.map(Math.abs)), 9);
    expect(feedback.candidate.rmse).toBeCloseTo(
      Math.sqrt(mean(candidateErrors.map((e) => e * e))),
      9,
    );
    const mae = normalMeanInterval(
      candidateErrors.map((e, i) => Math.abs(e) - Math.abs(servedErrors[i] as number)),
    );
    const mse = normalMeanInterval(
      candidateErrors.map((e, i) => e * e - (servedErrors[i] as number) ** 2),
    );
    for (const [given, expected] of [
      [feedback.maeDifference, mae],
      [feedback.mseDifference, mse],
    ] as const) {
      const shown = present(given);
      expect(shown.estimate).toBeCloseTo(expected.mean, 9);
      expect(shown.low).toBeCloseTo(expected.low, 9);
      expect(shown.high).toBeCloseTo(expected.high, 9);
    }
  });

  it('the live version over its own rows differs by exactly 0 on every row', async () => {
    const res = await gw.control('POST', '/control/replay', {
      model: 'price',
      candidate: 'v1',
      since,
    });
    const job = await waitForReplay(
      async (replay) => readReplay(await gw.control('GET', `/control/replay/${replay}`)),
      (await readReplay(res)).id,
    );
    const report = regressorReport(job);
    expect(report.difference).toMatchObject({
      rows: 20,
      meanAbsolute: 0,
      meanRelative: 0,
      quantiles: { p5: 0, p50: 0, p95: 0 },
    });
    expect(present(report.feedback?.maeDifference).estimate).toBe(0);
  });
});
