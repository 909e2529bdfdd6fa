import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  readAnyError,
  readControlView,
  readError,
  readInfer,
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

const rowsLogged = async () =>
  (await gw.query<{ n: number }>('SELECT count(*) AS n FROM predictions'))[0]?.n;
const errorRows = async () =>
  (
    await gw.query<{ n: number; error: string }>(
      "SELECT count(*) AS n, max(error) AS error FROM predictions WHERE status = 'error'",
    )
  )[0];

/** Sends `body` as raw JSON text, so numbers beyond what JSON.stringify writes arrive intact. */
const postText = (path: string, body: string, headers: Record<string, string> = {}) =>
  gw.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });

/** Either error shape: `{"error": {code, message}}`, or under /v2 the OIP's `{"error": message, code}`. */
const expectRefused = async (res: Response, status: number, code: string, mentions: string) => {
  const error = await readAnyError(res);
  expect({ status: res.status, code: error.code }).toEqual({ status, code });
  expect(error.message).toContain(mentions);
};

describe('feature values beyond FP32', () => {
  const values = ['1e39', '-1e39', '1e308', '3.5e38', '-3.4028236e38'];
  for (const value of values) {
    it(`/predict with ${value} → 400 naming the field, no row`, async () => {
      const before = await rowsLogged();
      const res = await postText(
        '/predict/iris',
        `{"inputs":{"sepal_length":5.1,"sepal_width":${value},"petal_length":1.4,"petal_width":0.2}}`,
      );
      await expectRefused(res, 400, 'invalid_input', 'inputs.sepal_width');
      expect(await rowsLogged()).toBe(before);
    });
  }

  it('by position and in instances too', async () => {
    await expectRefused(
      await postText('/predict/iris', '{"inputs":[[5.1,3.5,1.4,0.2],[5.1,1e39,1.4,0.2]]}'),
      400,
      'invalid_input',
      'inputs[1][1]',
    );
    await expectRefused(
      await postText(
        '/predict/iris',
        `{"instances":[{"sepal_length":-1e39,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}]}`,
      ),
      400,
      'invalid_input',
      'instances[0].sepal_length',
    );
  });

  it('OIP FP32 and FP64 tensors → 400 naming the element', async () => {
    for (const datatype of ['FP32', 'FP64']) {
      const before = await rowsLogged();
      const res = await postText(
        '/v2/models/iris/infer',
        `{"inputs":[{"name":"input","shape":[1,4],"datatype":"${datatype}","data":[5.1,3.5,1e308,0.2]}]}`,
      );
      await expectRefused(res, 400, 'invalid_input', 'inputs[0].data[2]');
      expect(await rowsLogged()).toBe(before);
    }
  });

  it('accepts the largest finite FP32 value itself', async () => {
    // It is finite on the way in (what the model makes of it is the next test's matter).
    const res = await postText(
      '/predict/iris',
      '{"inputs":{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":3.4028234663852886e38}}',
    );
    expect(res.status).not.toBe(400);
  });
});

describe('a model whose output is not finite', () => {
  it('3.4e38 overflows inside the graph → 500 inference_failed and an error row', async () => {
    const before = (await errorRows())?.n ?? 0;
    const res = await postText(
      '/predict/iris',
      '{"inputs":{"sepal_length":3.4e38,"sepal_width":3.4e38,"petal_length":3.4e38,"petal_width":3.4e38}}',
    );
    await expectRefused(res, 500, 'inference_failed', 'non-finite');
    const after = await errorRows();
    expect(after?.n).toBe(before + 1);
    expect(after?.error).toContain('non-finite');
  });
});

describe('OIP outputs', () => {
  it('an unknown requested output → 400 before the model runs, no row', async () => {
    const before = await rowsLogged();
    const res = await gw.post('/v2/models/iris/infer', {
      inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [5.1, 3.5, 1.4, 0.2] }],
      outputs: [{ name: 'nope' }],
    });
    await expectRefused(res, 400, 'invalid_input', '"nope"');
    expect(await rowsLogged()).toBe(before);
  });
});

describe('reserved keys', () => {
  it('__proto__ as a feature name → 400 like any unknown name', async () => {
    const before = await rowsLogged();
    for (const body of [
      '{"inputs":{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2,"__proto__":1}}',
      '{"instances":[{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2,"\\u005f_proto__":{}}]}',
    ]) {
      await expectRefused(await postText('/predict/iris', body), 400, 'invalid_input', '__proto__');
    }
    expect(await rowsLogged()).toBe(before);
  });

  it('__proto__ as a split weight key → 400, the split unchanged', async () => {
    const res = await gw.request('/control/split', {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${CONTROL_TOKEN}` },
      body: '{"model":"iris","weights":{"v1":50,"__proto__":50}}',
    });
    await expectRefused(res, 400, 'invalid_input', 'weights.__proto__');
    expect(
      (await readControlView(await gw.control('GET', '/control/iris'))).deployment.split,
    ).toBeNull();
  });

  it('NUL characters → 400 naming the field', async () => {
    const res = await postText('/feedback', '{"predictionId":"a\\u0000b","label":"setosa"}');
    await expectRefused(res, 400, 'invalid_input', 'body.predictionId');
  });
});

describe('X-Prediction-Id', () => {
  it('carries the id of a single row', async () => {
    const res = await gw.post('/predict/iris', { inputs: IRIS_ROW });
    const body = await readPrediction(res);
    expect(res.headers.get('x-prediction-id')).toBe(body.predictionId);
  });

  it('is absent for a batch (the ids are in the body), on both protocols', async () => {
    const res = await gw.post('/predict/iris', { instances: Array(500).fill(IRIS_ROW) });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-prediction-id')).toBeNull();
    expect((await readPrediction(res)).predictionIds).toHaveLength(500);

    const oip = await gw.post('/v2/models/iris/infer', {
      inputs: [{ name: 'input', shape: [2, 4], datatype: 'FP32', data: Array(8).fill(1) }],
    });
    expect(oip.status).toBe(200);
    expect(oip.headers.get('x-prediction-id')).toBeNull();
    expect((await readInfer(oip)).parameters.prediction_ids.split(',')).toHaveLength(2);
  });
});

describe('content types a browser sends cross-origin without a preflight', () => {
  const types = [
    'text/plain',
    'text/plain;charset=UTF-8',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'Text/Plain',
  ];
  for (const type of types) {
    it(`${type} → 415 on every POST`, async () => {
      const before = await rowsLogged();
      for (const path of [
        '/predict/iris',
        '/v2/models/iris/infer',
        '/feedback',
        '/control/promote',
      ]) {
        const res = await gw.request(path, {
          method: 'POST',
          headers: { 'content-type': type, authorization: `Bearer ${CONTROL_TOKEN}` },
          body: JSON.stringify({ inputs: IRIS_ROW, model: 'iris', version: 'v2' }),
        });
        await expectRefused(res, 415, 'unsupported_media_type', 'Content-Type');
      }
      expect(await rowsLogged()).toBe(before);
      expect(
        (await readControlView(await gw.control('GET', '/control/iris'))).deployment.live,
      ).toBe('v1');
    });
  }
});

describe('feedback overwrite', () => {
  it('needs the control token; the first label needs none', async () => {
    const { predictionId } = await readPrediction(
      await gw.post('/predict/iris', { inputs: IRIS_ROW }),
    );
    expect((await gw.post('/feedback', { predictionId, label: 'setosa' })).status).toBe(200);
    const anonymous = await gw.post('/feedback', {
      predictionId,
      label: 'virginica',
      overwrite: true,
    });
    await expectRefused(anonymous, 401, 'unauthorized', 'overwrite');
    const wrong = await gw.post(
      '/feedback',
      { predictionId, label: 'virginica', overwrite: true },
      { authorization: 'Bearer not-the-control-token' },
    );
    expect(wrong.status).toBe(401);
    expect(
      await gw.query<{ label: string }>(
        'SELECT label FROM feedback WHERE prediction_id = ?',
        predictionId,
      ),
    ).toEqual([{ label: 'setosa' }]);
    const operator = await gw.post(
      '/feedback',
      { predictionId, label: 'virginica', overwrite: true },
      { authorization: `Bearer ${CONTROL_TOKEN}` },
    );
    expect(operator.status).toBe(200);
    expect(
      await gw.query<{ label: string }>(
        'SELECT label FROM feedback WHERE prediction_id = ?',
        predictionId,
      ),
    ).toEqual([{ label: 'virginica' }]);
  });
});

describe('control requests that cannot do what they say', () => {
  it('source unleash without UNLEASH_URL → 409 naming it, nothing changed', async () => {
    const res = await gw.control('PUT', '/control/source', { model: 'iris', source: 'unleash' });
    await expectRefused(res, 409, 'conflict', 'UNLEASH_URL');
    expect(
      (await readControlView(await gw.control('GET', '/control/iris'))).deployment.source,
    ).toBe('local');
  });

  it('a rollout interval beyond the 2^31 − 1 ms timer limit → 400', async () => {
    for (const interval of ['597h', '1000h', '2147483648ms']) {
      const res = await gw.control('POST', '/control/rollout', {
        model: 'iris',
        version: 'v2',
        steps: [50, 100],
        interval,
      });
      await expectRefused(res, 400, 'bad_request', 'interval');
    }
    const longest = await gw.control('POST', '/control/rollout', {
      model: 'iris',
      version: 'v2',
      steps: [50, 100],
      interval: '596h',
    });
    expect(longest.status).toBe(200);
    const { rollout } = await readControlView(longest);
    expect(rollout?.status).toBe('running');
    expect(await servedVersionOf('rollout-user')).toBeDefined();
    expect((await gw.control('POST', '/control/rollout/abort', { model: 'iris' })).status).toBe(
      200,
    );
  });
});

async function servedVersionOf(userId: string): Promise<string> {
  return (await readPrediction(await gw.post('/predict/iris', { inputs: IRIS_ROW, userId })))
    .version;
}

describe('compare time bounds', () => {
  it('out-of-range since/until → 400, not a query error', async () => {
    for (const query of [
      `since=${'9'.repeat(400)}`,
      'since=99999999999999999999d',
      `until=${'9'.repeat(20)}`,
      'versions=v1,%00',
    ]) {
      const res = await gw.request(`/compare/iris?${query}`);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect((await readError(res)).error.code).toBe('invalid_input');
    }
  });
});
