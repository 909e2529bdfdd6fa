/**
 * Versions whose session runs on a worker thread (MODELGATE_INFERENCE_WORKER) answer exactly
 * what the inline session answers, batch under load, survive a promote/flip, and stop cleanly;
 * a worker that dies fails only the call it held and is replaced.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HEAVY_FEATURES, writeHeavyModel } from '../scripts/bench/heavy-model.js';
import { placeInference, WORKER_THRESHOLD_US } from '../src/models/onnx-host.js';
import {
  exitInferenceWorkerOnNextCallForTests,
  startWorkerRunner,
} from '../src/models/worker-runner.js';
import { readError, readModels, readPrediction } from './support/responses.js';
import { createTestGateway, type TestGateway } from './support/test-gateway.js';

const ROWS = [
  { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 },
  { sepal_length: 6.7, sepal_width: 3.0, petal_length: 5.2, petal_width: 2.3 },
  { sepal_length: 5.9, sepal_width: 3.0, petal_length: 4.2, petal_width: 1.5 },
];

let inline: TestGateway;
let worker: TestGateway;
beforeAll(async () => {
  inline = await createTestGateway({ env: { MODELGATE_INFERENCE_WORKER: 'off' } });
  worker = await createTestGateway({ env: { MODELGATE_INFERENCE_WORKER: 'on' } });
});
afterAll(async () => {
  await Promise.all([inline?.close(), worker?.close()]);
});

async function predict(gw: TestGateway, instances: unknown[], version?: string) {
  const res = await gw.post(
    '/predict/iris',
    { instances },
    version ? { 'x-model-version': version } : {},
  );
  expect(res.status).toBe(200);
  return readPrediction(res);
}

const healthy = { running: true, restarts: 0, callsInFlight: 0, lastStop: null };

describe('inference on a worker thread', () => {
  it('GET /models says where each version runs and what a row cost', async () => {
    const body = await readModels(await worker.request('/models'));
    const iris = body.models.find((m) => m.name === 'iris');
    expect(iris?.versions.map((v) => v.inference)).toEqual([
      { placement: 'worker', singleRowUs: expect.any(Number), worker: healthy },
      { placement: 'worker', singleRowUs: expect.any(Number), worker: healthy },
    ]);
    const inlineBody = await readModels(await inline.request('/models'));
    expect(
      inlineBody.models.flatMap((m) =>
        m.versions.map((v) => (v.inference as { placement: string }).placement),
      ),
    ).not.toContain('worker');
  });

  it('answers bit for bit what the inline session answers, one row and a batch', async () => {
    for (const instances of [[ROWS[0]], ROWS]) {
      const [a, b] = await Promise.all([predict(inline, instances), predict(worker, instances)]);
      expect(b.outputs).toEqual(a.outputs);
    }
  });

  it('keeps every answer with its own request when 200 concurrent requests are batched', async () => {
    const requests = Array.from({ length: 200 }, (_, i) => ROWS[i % ROWS.length]);
    const expected = (await predict(inline, ROWS)).outputs.map((o) => o.label);
    const answers = await Promise.all(requests.map((row) => predict(worker, [row])));
    expect(answers.map((a) => a.outputs[0]?.label)).toEqual(
      requests.map((_, i) => expected[i % ROWS.length]),
    );
    const rows = await worker.query<{ n: number }>(
      "SELECT count(*) AS n FROM predictions WHERE status = 'ok' AND shadow_of IS NULL",
    );
    expect(rows[0]?.n).toBeGreaterThanOrEqual(200);
  });

  it('serves the other version through its own worker after a promote and a flip', async () => {
    const v2 = await predict(inline, ROWS, 'v2');
    expect(
      (await worker.control('POST', '/control/promote', { model: 'iris', version: 'v2' })).status,
    ).toBe(200);
    const promoted = await predict(worker, ROWS);
    expect(promoted.version).toBe('v2');
    expect(promoted.outputs).toEqual(v2.outputs);
    expect((await worker.control('POST', '/control/flip', { model: 'iris' })).status).toBe(200);
    expect((await predict(worker, ROWS)).version).toBe('v1');
  });
});

describe('placeInference', () => {
  it('moves a version to a worker from the threshold up under auto, always under on, never under off', () => {
    expect(placeInference('auto', WORKER_THRESHOLD_US - 1)).toBe('inline');
    expect(placeInference('auto', WORKER_THRESHOLD_US)).toBe('worker');
    expect(placeInference('on', 1)).toBe('worker');
    expect(placeInference('off', 1e6)).toBe('inline');
  });
});

describe('a worker thread that dies', () => {
  const modelsDir = mkdtempSync(join(tmpdir(), 'modelgate-heavy-'));
  let gw: TestGateway;
  const logLines: { level: number; msg: string; reason?: string; callsFailed?: number }[] = [];
  beforeAll(async () => {
    writeHeavyModel(modelsDir);
    gw = await createTestGateway({
      env: { MODELGATE_MODELS_DIR: modelsDir, MODELGATE_INFERENCE_WORKER: 'on' },
      logger: pino({ level: 'warn' }, { write: (line: string) => logLines.push(JSON.parse(line)) }),
    });
  });
  afterAll(async () => {
    await gw?.close();
    rmSync(modelsDir, { recursive: true, force: true });
  });

  const row = Object.fromEntries(Array.from({ length: HEAVY_FEATURES }, (_, i) => [`x${i}`, 0.5]));
  const workerOf = async () => {
    const body = await readModels(await gw.request('/models'));
    return body.models.find((m) => m.name === 'heavy')?.versions[0]?.inference?.worker;
  };

  it('fails the call it held with a 500 and an error row, says so, and answers the next from a new worker', async () => {
    expect(await workerOf()).toEqual({
      running: true,
      restarts: 0,
      callsInFlight: 0,
      lastStop: null,
    });
    exitInferenceWorkerOnNextCallForTests(70);
    const held = gw.post('/predict/heavy', { instances: Array.from({ length: 1000 }, () => row) });
    await vi.waitFor(
      () => expect(gw.gate.oip.serverReadiness()).toHaveProperty('inferenceWorkersDown'),
      { interval: 1 },
    );
    // Sent while the worker is being started again: it waits for the new one.
    const queued = gw.post('/predict/heavy', { instances: [row] });
    expect(gw.gate.oip.serverReadiness()).toMatchObject({
      ready: true,
      inferenceWorkersDown: [
        {
          model: 'heavy',
          version: 'v1',
          restarts: 1,
          lastStop: { reason: 'exit code 70', callsFailed: 1 },
        },
      ],
    });

    const cut = await held;
    expect(cut.status).toBe(500);
    expect((await readError(cut)).error.message).toContain(
      'inference worker stopped: exit code 70',
    );
    expect((await queued).status).toBe(200);
    expect((await gw.post('/predict/heavy', { instances: [row] })).status).toBe(200);
    expect(await workerOf()).toMatchObject({
      running: true,
      restarts: 1,
      lastStop: { reason: 'exit code 70', callsFailed: 1 },
    });
    expect(gw.gate.oip.serverReadiness()).not.toHaveProperty('inferenceWorkersDown');
    expect(logLines).toContainEqual(
      expect.objectContaining({
        level: 50,
        msg: 'inference worker of heavy/v1 stopped; failed its 1 calls in flight, starting a new one',
        reason: 'exit code 70',
        callsFailed: 1,
      }),
    );
    const logged = await gw.query<{ status: string; error: string | null; n: number }>(
      "SELECT status, error, count(*) AS n FROM predictions WHERE model = 'heavy' GROUP BY status, error ORDER BY status",
    );
    expect(logged).toEqual([
      { status: 'error', error: 'inference worker stopped: exit code 70', n: 1000 },
      { status: 'ok', error: null, n: 2 },
    ]);
  });
});

describe('releasing a worker runner (unload, reload, shutdown) with calls still queued in it', () => {
  const model = join(import.meta.dirname, '../models/iris/v1/model.onnx');
  // Big enough that the first run is still going when the later ones and the close arrive.
  const ROWS_PER_CALL = 200_000;
  const feeds = () => ({
    input: new ort.Tensor('float32', new Float32Array(ROWS_PER_CALL * 4).fill(1), [
      ROWS_PER_CALL,
      4,
    ]),
  });

  it('answers every call sent before the release, then releases', async () => {
    const runner = await startWorkerRunner({ model, options: {} });
    const fetches = ['probabilities'];
    const calls = [0, 1, 2, 3].map(() => runner.run(feeds(), fetches));
    await runner.release();
    const answers = await Promise.all(calls);
    expect(answers.map((a) => a.probabilities?.dims)).toEqual(Array(4).fill([ROWS_PER_CALL, 3]));
    expect(runner.health()).toMatchObject({ running: false, callsInFlight: 0 });
    await expect(runner.run(feeds(), fetches)).rejects.toThrow('inference worker released');
  });

  it('fails the calls it held when the worker dies during the release, instead of leaving them unsettled', async () => {
    const runner = await startWorkerRunner({ model, options: {} });
    exitInferenceWorkerOnNextCallForTests(70);
    const held = runner.run(feeds(), ['probabilities']);
    held.catch(() => {});
    await runner.release();
    await expect(held).rejects.toThrow('inference worker stopped: exit code 70');
    expect(runner.health()).toMatchObject({ running: false, callsInFlight: 0 });
  });
});
