/**
 * Versions whose session runs on a worker thread (MODELGATE_INFERENCE_WORKER) answer exactly
 * what the inline session answers, batch under load, survive a promote/flip, and stop cleanly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { placeInference, WORKER_THRESHOLD_US } from '../src/models/onnx-host.js';
import { createTestGateway, json, type TestGateway } from './support/test-gateway.js';

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

interface Output {
  label: string;
  probabilities: Record<string, number>;
}

async function predict(gw: TestGateway, instances: unknown[], version?: string) {
  const res = await gw.post(
    '/predict/iris',
    { instances },
    version ? { 'x-model-version': version } : {},
  );
  expect(res.status).toBe(200);
  return (await json(res)) as { version: string; outputs: Output[] };
}

describe('inference on a worker thread', () => {
  it('GET /models says where each version runs and what a row cost', async () => {
    const body = (await json(await worker.request('/models'))) as {
      models: { name: string; versions: { version: string; inference: unknown }[] }[];
    };
    const iris = body.models.find((m) => m.name === 'iris');
    expect(iris?.versions.map((v) => v.inference)).toEqual([
      { placement: 'worker', singleRowUs: expect.any(Number) },
      { placement: 'worker', singleRowUs: expect.any(Number) },
    ]);
    const inlineBody = (await json(await inline.request('/models'))) as typeof body;
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
    const rows = worker.query<{ n: number }>(
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
