import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OipSchemaName } from './fixtures/oip-rest-schemas.js';
import { schemaErrors } from './support/oip-schema.js';
import { parseAs, readError, schemas } from './support/responses.js';
import { createTestGateway, json, type TestGateway } from './support/test-gateway.js';

/** Every /v2 answer modelgate gives, checked against the specification's JSON schemas. */

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway();
});
afterAll(async () => {
  await gw.close();
});

const ROW = [5.1, 3.5, 1.4, 0.2];
const tensor = (data: unknown[], shape = [data.length / 4, 4]) => ({
  name: 'input',
  shape,
  datatype: 'FP32',
  data,
});

const conforms = async (res: Response, status: number, schema: OipSchemaName) => {
  const body = await json(res);
  expect(res.status, JSON.stringify(body)).toBe(status);
  expect(schemaErrors(schema, body)).toBe('');
  return body;
};

describe('every /v2 success conforms to the specification', () => {
  it('server metadata at /v2 and /v2/, listing the binary tensor data extension', async () => {
    for (const path of ['/v2', '/v2/']) {
      const body = parseAs(
        schemas.serverMetadata,
        await conforms(await gw.request(path), 200, 'metadata_server_response'),
      );
      expect(body.extensions).toContain('binary_tensor_data');
    }
  });

  it('health, readiness, model metadata and model readiness', async () => {
    await conforms(await gw.request('/v2/health/live'), 200, 'live_server_response');
    await conforms(await gw.request('/v2/health/ready'), 200, 'ready_server_response');
    for (const path of ['/v2/models/iris', '/v2/models/iris/versions/v2']) {
      const meta = parseAs(
        schemas.modelMetadata,
        await conforms(await gw.request(path), 200, 'metadata_model_response'),
      );
      expect(meta.parameters.features).toBe('sepal_length,sepal_width,petal_length,petal_width');
    }
    for (const path of ['/v2/models/iris/ready', '/v2/models/iris/versions/v2/ready']) {
      await conforms(await gw.request(path), 200, 'ready_model_response');
    }
  });

  it('inference: routed, on a version, some outputs, nested data; parameters are scalars', async () => {
    const bodies = [
      { id: 'a', inputs: [tensor([...ROW, ...ROW])] },
      { inputs: [tensor([ROW], [1, 4])], outputs: [{ name: 'label' }] },
      { inputs: [tensor(ROW)], parameters: { userId: 'u-1', note: 3, debug: false } },
    ];
    for (const path of ['/v2/models/iris/infer', '/v2/models/iris/versions/v2/infer']) {
      for (const body of bodies) {
        const res = parseAs(
          schemas.inferAnswer,
          await conforms(await gw.post(path, body), 200, 'inference_response'),
        );
        // Prediction ids as one comma-separated string: one per row, each a logged row.
        const ids = res.parameters.prediction_ids.split(',');
        expect(ids).toHaveLength(body.inputs[0]?.shape[0] as number);
        expect(
          await gw.query(
            `SELECT count(*) AS n FROM predictions WHERE id IN (${ids.map(() => '?')})`,
            ...ids,
          ),
        ).toEqual([{ n: ids.length }]);
      }
    }
  });
});

describe('every /v2 error is {"error": "<message>"}, with the code beside it', () => {
  const bigPadding = 'x'.repeat(1024 * 1024 + 1);
  const cases: Array<{
    name: string;
    send: () => Promise<Response>;
    status: number;
    code: string;
  }> = [
    {
      name: 'unknown model metadata',
      send: () => gw.request('/v2/models/tulips'),
      status: 404,
      code: 'model_not_found',
    },
    {
      name: 'unknown version metadata',
      send: () => gw.request('/v2/models/iris/versions/v9'),
      status: 404,
      code: 'version_not_found',
    },
    {
      name: 'unknown model ready',
      send: () => gw.request('/v2/models/tulips/ready'),
      status: 404,
      code: 'model_not_found',
    },
    {
      name: 'unknown version ready',
      send: () => gw.request('/v2/models/iris/versions/v9/ready'),
      status: 404,
      code: 'version_not_found',
    },
    {
      name: 'unknown /v2 path',
      send: () => gw.request('/v2/nowhere'),
      status: 404,
      code: 'not_found',
    },
    {
      name: 'infer on an unknown model',
      send: () => gw.post('/v2/models/tulips/infer', { inputs: [tensor(ROW)] }),
      status: 404,
      code: 'model_not_found',
    },
    {
      name: 'infer on an unknown version',
      send: () => gw.post('/v2/models/iris/versions/v9/infer', { inputs: [tensor(ROW)] }),
      status: 404,
      code: 'version_not_found',
    },
    {
      name: 'malformed JSON',
      send: () => gw.post('/v2/models/iris/infer', '{"inputs": ['),
      status: 400,
      code: 'invalid_json',
    },
    {
      name: 'a wrong shape',
      send: () => gw.post('/v2/models/iris/infer', { inputs: [tensor(ROW, [1, 3])] }),
      status: 400,
      code: 'invalid_input',
    },
    {
      name: 'a list as a parameter value',
      send: () =>
        gw.post('/v2/models/iris/infer', { inputs: [tensor(ROW)], parameters: { ids: [1] } }),
      status: 400,
      code: 'invalid_input',
    },
    {
      name: 'an unknown output',
      send: () =>
        gw.post('/v2/models/iris/infer', { inputs: [tensor(ROW)], outputs: [{ name: 'nope' }] }),
      status: 400,
      code: 'invalid_input',
    },
    {
      name: 'a body over 1 MiB',
      send: () => gw.post('/v2/models/iris/infer', { inputs: [tensor(ROW)], pad: bigPadding }),
      status: 413,
      code: 'payload_too_large',
    },
    {
      name: 'text/plain',
      send: () =>
        gw.request('/v2/models/iris/infer', {
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
          body: '{}',
        }),
      status: 415,
      code: 'unsupported_media_type',
    },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.status} ${c.code}`, async () => {
      const body = parseAs(
        schemas.oipErrorBody,
        await conforms(await c.send(), c.status, 'error_response'),
      );
      expect(body.code).toBe(c.code);
    });
  }

  it('elsewhere errors keep {"error": {"code", "message"}}', async () => {
    const body = await readError(await gw.request('/models/nowhere/x'));
    expect(body.error).toMatchObject({ code: 'not_found' });
  });
});
