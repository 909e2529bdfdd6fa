import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInfer, readModelMetadata, readOipError, readReadiness } from './support/responses.js';
import { createTestGateway, json, type TestGateway } from './support/test-gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway();
});
afterAll(async () => {
  await gw.close();
});

const inferBody = (data: number[], rows = 1) => ({
  id: 'client-req-1',
  inputs: [{ name: 'input', shape: [rows, 4], datatype: 'FP32', data }],
});

describe('Open Inference Protocol v2', () => {
  it('reports server liveness and readiness', async () => {
    expect(await json(await gw.request('/v2/health/live'))).toEqual({ live: true });
    const ready = await gw.request('/v2/health/ready');
    expect(ready.status).toBe(200);
    expect(await readReadiness(ready)).toMatchObject({
      ready: true,
      degraded: false,
      storage: { kind: 'sqlite', ok: true, accepting: true },
    });
  });

  it('describes a model: versions, inputs with name, datatype and shape, outputs', async () => {
    const res = await gw.request('/v2/models/iris');
    expect(res.status).toBe(200);
    const meta = await readModelMetadata(res);
    expect(meta).toMatchObject({
      name: 'iris',
      versions: ['v1', 'v2'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
    });
    expect(meta.outputs).toContainEqual({
      name: 'probabilities',
      datatype: 'FP32',
      shape: [-1, 3],
    });
    const v2 = await gw.request('/v2/models/iris/versions/v2');
    expect(v2.status).toBe(200);
  });

  it('answers per-model and per-version readiness, 404 for what is not loaded', async () => {
    expect((await gw.request('/v2/models/iris/ready')).status).toBe(200);
    expect((await gw.request('/v2/models/iris/versions/v2/ready')).status).toBe(200);
    const missing = await gw.request('/v2/models/iris/versions/v9/ready');
    expect(missing.status).toBe(404);
    expect((await readOipError(missing)).code).toBe('version_not_found');
    expect((await gw.request('/v2/models/nope/ready')).status).toBe(404);
  });

  it('infers without a version through routing, like /predict', async () => {
    const res = await gw.post(
      '/v2/models/iris/infer',
      inferBody([5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3], 2),
    );
    expect(res.status).toBe(200);
    const body = await readInfer(res);
    expect(body).toMatchObject({ model_name: 'iris', model_version: 'v1', id: 'client-req-1' });
    expect(body.parameters.route).toBe('live');
    const probabilities = body.outputs.find((o) => o.name === 'probabilities');
    expect(probabilities).toMatchObject({ datatype: 'FP32', shape: [2, 3] });
    expect(probabilities?.data).toHaveLength(6);
    const label = body.outputs.find((o) => o.name === 'label');
    expect(label).toEqual({
      name: 'label',
      datatype: 'BYTES',
      shape: [2],
      data: ['setosa', 'virginica'],
    });
  });

  it('infers on a named version and accepts nested data', async () => {
    const res = await gw.post('/v2/models/iris/versions/v2/infer', {
      inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [[5.1, 3.5, 1.4, 0.2]] }],
    });
    expect(res.status).toBe(200);
    const body = await readInfer(res);
    expect(body.model_version).toBe('v2');
    expect(body.parameters.route).toBe('override');
    expect(
      await gw.query(
        'SELECT version, route FROM predictions WHERE id = ?',
        body.parameters.prediction_ids,
      ),
    ).toEqual([{ version: 'v2', route: 'override' }]);
  });

  it('rejects a tensor of the wrong name, shape or size, naming the field', async () => {
    const cases: Array<[unknown, string]> = [
      [
        { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] },
        'inputs[0].name',
      ],
      [
        { inputs: [{ name: 'input', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] },
        'inputs[0].shape',
      ],
      [
        { inputs: [{ name: 'input', shape: [2, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] },
        'inputs[0].data',
      ],
      [
        { inputs: [{ name: 'input', shape: [1, 4], datatype: 'INT8', data: [1, 2, 3, 4] }] },
        'inputs[0].datatype',
      ],
      [
        { inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [1, 2, 'x', 4] }] },
        'inputs[0].data[2]',
      ],
      [{ nope: true }, 'inputs: '],
    ];
    for (const [body, field] of cases) {
      const res = await gw.post('/v2/models/iris/infer', body);
      expect(res.status, field).toBe(400);
      expect((await readOipError(res)).error, field).toContain(field);
    }
  });
});
