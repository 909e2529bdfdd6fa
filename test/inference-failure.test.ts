import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFaultyIrisVersion } from './support/faulty-model.js';
import { readError } from './support/responses.js';
import { createTestGateway, IRIS_ROW, type TestGateway } from './support/test-gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway({ copyModels: true });
  writeFaultyIrisVersion(gw.modelsDir, 'v9');
  expect((await gw.control('POST', '/control/load', { model: 'iris', version: 'v9' })).status).toBe(
    200,
  );
});
afterAll(async () => {
  await gw.close();
});

describe('a model that fails inside ONNX Runtime', () => {
  it('answers 500 in the error shape with the request id, logs error rows, and keeps serving', async () => {
    const res = await gw.post(
      '/predict/iris',
      { instances: [IRIS_ROW, IRIS_ROW] },
      { 'x-model-version': 'v9', 'x-request-id': 'req-faulty' },
    );
    expect(res.status).toBe(500);
    const body = await readError(res);
    expect(body.error.code).toBe('inference_failed');
    expect(body.error.message).toContain('iris/v9');
    expect(res.headers.get('x-request-id')).toBe('req-faulty');

    const rows = await gw.query<{ version: string; status: string; error: string }>(
      "SELECT version, status, error FROM predictions WHERE request_id = 'req-faulty'",
    );
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row).toMatchObject({ version: 'v9', status: 'error' });
      expect(row.error.length).toBeGreaterThan(0);
    }

    const metrics = await (await gw.request('/metrics')).text();
    expect(metrics).toContain(
      'modelgate_prediction_errors_total{model="iris",version="v9",route="override"} 2',
    );

    const healthy = await gw.post('/predict/iris', { inputs: IRIS_ROW });
    expect(healthy.status).toBe(200);
    const single = await gw.post(
      '/predict/iris',
      { inputs: IRIS_ROW },
      { 'x-model-version': 'v9' },
    );
    expect(single.status).toBe(200);
  });
});
