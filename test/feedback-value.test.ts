import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONTROL_TOKEN,
  createTestGateway,
  IRIS_ROW,
  type Json,
  json,
  type TestGateway,
} from './support/test-gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway();
});
afterAll(async () => {
  await gw.close();
});

/** A prediction served by `version` (X-Model-Version), its id. */
async function predict(version: string): Promise<string> {
  const res = await gw.post('/predict/iris', { inputs: IRIS_ROW }, { 'x-model-version': version });
  expect(res.status).toBe(200);
  return (await json(res)).predictionId;
}

const feedbackRow = (id: string) =>
  gw.query<{ label: string | null; value: number | null }>(
    'SELECT label, value FROM feedback WHERE prediction_id = ?',
    id,
  )[0];

describe('POST /feedback with a numeric value', () => {
  it('refuses a value that is not a finite number, and feedback with neither field', async () => {
    const predictionId = await predict('v1');
    for (const [body, field] of [
      [`{"predictionId":"${predictionId}","value":"12"}`, 'value'],
      [`{"predictionId":"${predictionId}","value":null}`, 'value'],
      // JSON.parse reads 1e999 as Infinity.
      [`{"predictionId":"${predictionId}","value":1e999}`, 'value'],
      [`{"predictionId":"${predictionId}","value":-1e999,"label":"setosa"}`, 'value'],
      [`{"predictionId":"${predictionId}"}`, 'label or value'],
    ] as const) {
      const res = await gw.post('/feedback', body);
      expect(res.status, body).toBe(400);
      const { error } = await json(res);
      expect(error.code).toBe('invalid_input');
      expect(error.message.startsWith(`${field}:`), error.message).toBe(true);
    }
    expect(feedbackRow(predictionId)).toBeUndefined();
  });

  it('stores a value alone, then a label beside it; replacing either needs overwrite', async () => {
    const predictionId = await predict('v1');
    const first = await gw.post('/feedback', { predictionId, value: 12.5 });
    expect(first.status).toBe(200);
    expect(await json(first)).toEqual({ predictionId, value: 12.5, model: 'iris', version: 'v1' });
    expect(feedbackRow(predictionId)).toEqual({ label: null, value: 12.5 });

    expect((await gw.post('/feedback', { predictionId, label: 'setosa' })).status).toBe(200);
    expect(feedbackRow(predictionId)).toEqual({ label: 'setosa', value: 12.5 });

    const again = await gw.post('/feedback', { predictionId, value: 3 });
    expect(again.status).toBe(409);
    expect((await json(again)).error.message).toContain('already has value 12.5');
    const replaced = await gw.post(
      '/feedback',
      { predictionId, value: -3, overwrite: true },
      { authorization: `Bearer ${CONTROL_TOKEN}` },
    );
    expect(replaced.status).toBe(200);
    expect(feedbackRow(predictionId)).toEqual({ label: 'setosa', value: -3 });
  });
});

describe('GET /compare with numeric feedback', () => {
  // v1 values 1…40 (mean 20.5), v2 values 3…42 (mean 22.5): both have sample variance
  // n(n + 1)/12 = 136.6667. Only the even predictions also get a label.
  let since: number;
  beforeAll(async () => {
    expect(
      (await gw.control('PUT', '/control/split', { model: 'iris', weights: { v1: 1, v2: 1 } }))
        .status,
    ).toBe(200);
    since = Date.now();
    for (const [version, offset] of [
      ['v1', 0],
      ['v2', 2],
    ] as const) {
      for (let i = 1; i <= 40; i++) {
        const predictionId = await predict(version);
        const body: Json = { predictionId, value: i + offset };
        if (i % 2 === 0) body.label = 'setosa';
        expect((await gw.post('/feedback', body)).status).toBe(200);
      }
    }
  });

  it('reports per version n, mean and variance, with both intervals', async () => {
    const report = await json(await gw.request(`/compare/iris?since=${since}`));
    const [v1, v2] = report.versions;
    const variance = (40 * 41) / 12;
    expect(v1.value).toMatchObject({ n: 40 });
    expect(v1.value.mean).toBeCloseTo(20.5, 10);
    expect(v2.value.mean).toBeCloseTo(22.5, 10);
    expect(v1.value.variance).toBeCloseTo(variance, 9);
    expect(v2.value.variance).toBeCloseTo(variance, 9);
    // mean ± 1.959964 · √(136.6667 / 40) = 20.5 ± 3.6229
    const half = 1.959964 * Math.sqrt(variance / 40);
    expect(v1.value.fixedHorizon.low).toBeCloseTo(20.5 - half, 4);
    expect(v1.value.fixedHorizon.high).toBeCloseTo(20.5 + half, 4);
    // The confidence sequence is wider than the interval read once, around the same mean.
    expect(v1.value.sequential.low).toBeLessThan(v1.value.fixedHorizon.low);
    expect(v1.value.sequential.high).toBeGreaterThan(v1.value.fixedHorizon.high);
    expect(v1.value.sequential.low + v1.value.sequential.high).toBeCloseTo(41, 8);
    // Accuracy counts only the labelled half.
    expect(v1.accuracy.n).toBe(20);
    expect(v1.accuracy.sequential.low).toBeLessThan(v1.accuracy.low);
  });

  it('compares the mean value of each later version with the first, both ways', async () => {
    const report = await json(await gw.request(`/compare/iris?since=${since}`));
    expect(report.value).toHaveLength(1);
    const [comparison] = report.value;
    expect(comparison).toMatchObject({ baseline: 'v1', candidate: 'v2' });
    expect(comparison.difference).toBeCloseTo(2, 10);
    // se = √(2 · 136.6667 / 40) = 2.6141; z = 0.76509; p = 0.44421 (SciPy norm.sf · 2).
    expect(comparison.fixedHorizon.z).toBeCloseTo(0.765092, 5);
    expect(comparison.fixedHorizon.pValue).toBeCloseTo(0.44421, 4);
    expect(comparison.fixedHorizon.significant).toBe(false);
    expect(comparison.fixedHorizon.low).toBeCloseTo(2 - 1.959964 * 2.614065, 4);
    const { sequential } = comparison;
    expect(sequential.low).toBeLessThan(comparison.fixedHorizon.low);
    expect(sequential.high).toBeGreaterThan(comparison.fixedHorizon.high);
    expect(sequential.pValue).toBeGreaterThan(comparison.fixedHorizon.pValue);
    expect(sequential.significant).toBe(false);
  });

  it('starts at the split change with since=split', async () => {
    const before = await json(await gw.request('/compare/iris?since=split'));
    expect(before.window.since).toBeGreaterThan(0);
    expect(before.window.since).toBeLessThanOrEqual(since);
    expect(before.versions.find((v: Json) => v.version === 'v1').value.n).toBe(40);
    expect(
      (await gw.control('PUT', '/control/split', { model: 'iris', weights: { v1: 2, v2: 1 } }))
        .status,
    ).toBe(200);
    const after = await json(await gw.request('/compare/iris?since=split'));
    expect(after.window.since).toBeGreaterThan(since);
    expect(after.versions).toEqual([]);
    expect(after.value).toEqual([]);
    const bad = await gw.request('/compare/iris?since=splits');
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.message).toContain('or split');
  });
});
