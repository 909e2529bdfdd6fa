import { copyFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCompare, readPrediction } from './support/responses.js';
import { createTestGateway, IRIS_ROW, type TestGateway } from './support/test-gateway.js';

const OTHER_ROW = { sepal_length: 6.7, sepal_width: 3.0, petal_length: 5.2, petal_width: 2.3 };

const metric = async (gw: TestGateway, name: string, version: string) => {
  const text = await (await gw.request('/metrics')).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}{model="iris",version="${version}"}`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
};

const cachedFlags = async (gw: TestGateway, requestIds: string[]) =>
  (
    await gw.query<{ cached: number }>(
      `SELECT cached FROM predictions WHERE request_id IN (${requestIds.map(() => '?').join(',')})
       ORDER BY ts, id`,
      ...requestIds,
    )
  ).map((r) => r.cached);

describe('prediction cache on (MODELGATE_CACHE_ROWS)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await createTestGateway({ copyModels: true, env: { MODELGATE_CACHE_ROWS: '100' } });
  });
  afterAll(async () => {
    await gw.close();
  });

  it('answers a repeated row with the same result and still logs it, marked cached', async () => {
    const v1 = { 'x-model-version': 'v1' };
    const first = await gw.post(
      '/predict/iris',
      { inputs: IRIS_ROW },
      { ...v1, 'x-request-id': 'c-1' },
    );
    // The same row by position: the model sees the same numbers, so it is the same entry.
    const second = await gw.post(
      '/predict/iris',
      { inputs: [Object.values(IRIS_ROW)] },
      { ...v1, 'x-request-id': 'c-2' },
    );
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect((await readPrediction(second)).outputs).toEqual((await readPrediction(first)).outputs);
    expect(await cachedFlags(gw, ['c-1', 'c-2'])).toEqual([0, 1]);

    const batch = await gw.post(
      '/predict/iris',
      { instances: [OTHER_ROW, IRIS_ROW] },
      { ...v1, 'x-request-id': 'c-3' },
    );
    expect(batch.status).toBe(200);
    const rows = await gw.query<{ cached: number; input: string }>(
      "SELECT cached, input FROM predictions WHERE request_id = 'c-3'",
    );
    expect(rows.map((r) => [JSON.parse(r.input).sepal_length, r.cached]).sort()).toEqual([
      [5.1, 1],
      [6.7, 0],
    ]);
    expect(await metric(gw, 'modelgate_prediction_cache_hits_total', 'v1')).toBe(2);
    expect(await metric(gw, 'modelgate_prediction_cache_misses_total', 'v1')).toBe(2);
  });

  it('keeps statistics per request: /compare counts cached rows as requests', async () => {
    for (let i = 0; i < 4; i++) {
      const res = await gw.post(
        '/predict/iris',
        { inputs: OTHER_ROW },
        { 'x-model-version': 'v2' },
      );
      expect(res.status).toBe(200);
    }
    await gw.gate.flushLog();
    const report = await readCompare(await gw.request('/compare/iris'));
    const v2 = report.versions.find((v) => v.version === 'v2');
    expect(v2?.requests).toBe(4);
    expect(await metric(gw, 'modelgate_prediction_cache_hits_total', 'v2')).toBe(3);
  });

  it('forgets a version’s results when it is unloaded and loaded again', async () => {
    cpSync(join(gw.modelsDir, 'iris/v2'), join(gw.modelsDir, 'iris/v3'), { recursive: true });
    expect(
      (await gw.control('POST', '/control/load', { model: 'iris', version: 'v3' })).status,
    ).toBe(200);
    const v3 = (requestId: string) =>
      gw.post(
        '/predict/iris',
        { inputs: IRIS_ROW },
        { 'x-model-version': 'v3', 'x-request-id': requestId },
      );
    expect((await v3('r-1')).status).toBe(200);
    expect((await v3('r-2')).status).toBe(200);
    expect(
      (await gw.control('POST', '/control/unload', { model: 'iris', version: 'v3' })).status,
    ).toBe(200);
    expect(
      (await gw.control('POST', '/control/load', { model: 'iris', version: 'v3' })).status,
    ).toBe(200);
    expect((await v3('r-3')).status).toBe(200);
    expect(await cachedFlags(gw, ['r-1', 'r-2', 'r-3'])).toEqual([0, 1, 0]);
  });
});

describe('prediction cache across a reload (POST /control/load with "reload": true)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await createTestGateway({ copyModels: true, env: { MODELGATE_CACHE_ROWS: '100' } });
  });
  afterAll(async () => {
    await gw.close();
  });

  it('answers from the new graph at once: the old session’s results go with it', async () => {
    const v3 = join(gw.modelsDir, 'iris/v3');
    cpSync(join(gw.modelsDir, 'iris/v2'), v3, { recursive: true });
    const load = (body: Record<string, unknown> = {}) =>
      gw.control('POST', '/control/load', { model: 'iris', version: 'v3', ...body });
    expect((await load()).status).toBe(200);
    const ask = async (requestId: string) => {
      const res = await gw.post(
        '/predict/iris',
        { inputs: IRIS_ROW },
        { 'x-model-version': 'v3', 'x-request-id': requestId },
      );
      expect(res.status).toBe(200);
      return (await readPrediction(res)).outputs[0]?.probabilities;
    };
    const fromV2 = await ask('re-1');
    expect(await ask('re-2')).toEqual(fromV2);
    // The same version name, another graph: iris v1's softmax regression instead of v2's MLP.
    copyFileSync(join(gw.modelsDir, 'iris/v1/model.onnx'), join(v3, 'model.onnx'));
    expect((await load({ reload: true })).status).toBe(200);
    const afterReload = await ask('re-3');
    expect(afterReload).not.toEqual(fromV2);
    const fromV1 = await readPrediction(
      await gw.post('/predict/iris', { inputs: IRIS_ROW }, { 'x-model-version': 'v1' }),
    );
    expect(afterReload).toEqual(fromV1.outputs[0]?.probabilities);
    expect(await ask('re-4')).toEqual(afterReload);
    expect(await cachedFlags(gw, ['re-1', 're-2', 're-3', 're-4'])).toEqual([0, 1, 0, 1]);
  });
});

describe('prediction cache off (the default)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await createTestGateway();
  });
  afterAll(async () => {
    await gw.close();
  });

  it('computes every row and logs none as cached', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await gw.post(
        '/predict/iris',
        { inputs: IRIS_ROW },
        { 'x-request-id': `off-${i}` },
      );
      expect(res.status).toBe(200);
    }
    expect(await cachedFlags(gw, ['off-0', 'off-1', 'off-2'])).toEqual([0, 0, 0]);
    expect(await metric(gw, 'modelgate_prediction_cache_hits_total', 'v1')).toBeUndefined();
  });
});
