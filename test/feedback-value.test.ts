import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  present,
  readCompare,
  readError,
  readFeedback,
  readPrediction,
} from './support/responses.js';
import {
  CONTROL_TOKEN,
  createTestGateway,
  IRIS_ROW,
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
  return (await readPrediction(res)).predictionId;
}

const feedbackRow = async (id: string) =>
  (
    await gw.query<{ label: string | null; value: number | null }>(
      'SELECT label, value FROM feedback WHERE prediction_id = ?',
      id,
    )
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
      const { error } = await readError(res);
      expect(error.code).toBe('invalid_input');
      expect(error.message.startsWith(`${field}:`), error.message).toBe(true);
    }
    expect(await feedbackRow(predictionId)).toBeUndefined();
  });

  it('stores a value alone, then a label beside it; replacing either needs overwrite', async () => {
    const predictionId = await predict('v1');
    const first = await gw.post('/feedback', { predictionId, value: 12.5 });
    expect(first.status).toBe(200);
    expect(await readFeedback(first)).toEqual({
      predictionId,
      value: 12.5,
      model: 'iris',
      version: 'v1',
    });
    expect(await feedbackRow(predictionId)).toEqual({ label: null, value: 12.5 });

    expect((await gw.post('/feedback', { predictionId, label: 'setosa' })).status).toBe(200);
    expect(await feedbackRow(predictionId)).toEqual({ label: 'setosa', value: 12.5 });

    const again = await gw.post('/feedback', { predictionId, value: 3 });
    expect(again.status).toBe(409);
    expect((await readError(again)).error.message).toContain('already has value 12.5');
    const replaced = await gw.post(
      '/feedback',
      { predictionId, value: -3, overwrite: true },
      { authorization: `Bearer ${CONTROL_TOKEN}` },
    );
    expect(replaced.status).toBe(200);
    expect(await feedbackRow(predictionId)).toEqual({ label: 'setosa', value: -3 });
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
        const body = { predictionId, value: i + offset, ...(i % 2 === 0 && { label: 'setosa' }) };
        expect((await gw.post('/feedback', body)).status).toBe(200);
      }
    }
  });

  it('reports per version n, mean and variance, with both intervals', async () => {
    const report = await readCompare(await gw.request(`/compare/iris?since=${since}`));
    const v1 = present(report.versions[0]?.value, 'v1 value');
    const v2 = present(report.versions[1]?.value, 'v2 value');
    const variance = (40 * 41) / 12;
    expect(v1).toMatchObject({ n: 40 });
    expect(v1.mean).toBeCloseTo(20.5, 10);
    expect(v2.mean).toBeCloseTo(22.5, 10);
    expect(v1.variance).toBeCloseTo(variance, 9);
    expect(v2.variance).toBeCloseTo(variance, 9);
    // mean ± 1.959964 · √(136.6667 / 40) = 20.5 ± 3.6229
    const half = 1.959964 * Math.sqrt(variance / 40);
    const fixed = present(v1.fixedHorizon, 'fixed-horizon interval');
    const sequential = present(v1.sequential, 'confidence sequence');
    expect(fixed.low).toBeCloseTo(20.5 - half, 4);
    expect(fixed.high).toBeCloseTo(20.5 + half, 4);
    // The confidence sequence is wider than the interval read once, around the same mean.
    expect(sequential.low).toBeLessThan(fixed.low);
    expect(sequential.high).toBeGreaterThan(fixed.high);
    expect(sequential.low + sequential.high).toBeCloseTo(41, 8);
    // Accuracy counts only the labelled half.
    const accuracy = present(report.versions[0]?.accuracy, 'v1 accuracy');
    expect(accuracy.n).toBe(20);
    expect(accuracy.sequential.low).toBeLessThan(accuracy.low);
  });

  it('compares the mean value of each later version with the first, both ways', async () => {
    const report = await readCompare(await gw.request(`/compare/iris?since=${since}`));
    expect(report.value).toHaveLength(1);
    const comparison = present(report.value[0], 'the v2 − v1 comparison');
    expect(comparison).toMatchObject({ baseline: 'v1', candidate: 'v2' });
    expect(comparison.difference).toBeCloseTo(2, 10);
    const fixed = present(comparison.fixedHorizon, 'fixed-horizon test');
    // se = √(2 · 136.6667 / 40) = 2.6141; z = 0.76509; p = 0.44421 (SciPy norm.sf · 2).
    expect(fixed.z).toBeCloseTo(0.765092, 5);
    expect(fixed.pValue).toBeCloseTo(0.44421, 4);
    expect(fixed.significant).toBe(false);
    expect(fixed.low).toBeCloseTo(2 - 1.959964 * 2.614065, 4);
    const sequential = present(comparison.sequential, 'confidence sequence');
    expect(sequential.low).toBeLessThan(fixed.low);
    expect(sequential.high).toBeGreaterThan(fixed.high);
    expect(sequential.pValue).toBeGreaterThan(fixed.pValue);
    expect(sequential.significant).toBe(false);
  });

  it('starts at the split change with since=split', async () => {
    const before = await readCompare(await gw.request('/compare/iris?since=split'));
    expect(before.window.since).toBeGreaterThan(0);
    expect(before.window.since).toBeLessThanOrEqual(since);
    expect(before.versions.find((v) => v.version === 'v1')?.value?.n).toBe(40);
    expect(
      (await gw.control('PUT', '/control/split', { model: 'iris', weights: { v1: 2, v2: 1 } }))
        .status,
    ).toBe(200);
    const after = await readCompare(await gw.request('/compare/iris?since=split'));
    expect(after.window.since).toBeGreaterThan(since);
    expect(after.versions).toEqual([]);
    expect(after.value).toEqual([]);
    const bad = await gw.request('/compare/iris?since=splits');
    expect(bad.status).toBe(400);
    expect((await readError(bad)).error.message).toContain('or split');
  });
});
