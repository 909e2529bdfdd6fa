import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAs, readError, schemas } from './support/responses.js';
import { createTestGateway, IRIS_ROW, type TestGateway } from './support/test-gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway();
});
afterAll(async () => {
  await gw.close();
});

const rowsLogged = async () =>
  (await gw.query<{ n: number }>('SELECT count(*) AS n FROM predictions'))[0]?.n;

interface BadCase {
  name: string;
  path?: string;
  body: unknown;
  headers?: Record<string, string>;
  status: number;
  code: string;
  mentions: string;
}

const cases: BadCase[] = [
  {
    name: 'unknown feature',
    body: { inputs: { ...IRIS_ROW, petal_colour: 1 } },
    status: 400,
    code: 'invalid_input',
    mentions: 'inputs.petal_colour',
  },
  {
    name: 'missing feature',
    body: { inputs: { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4 } },
    status: 400,
    code: 'invalid_input',
    mentions: 'inputs.petal_width',
  },
  {
    name: 'a string instead of a number',
    body: { instances: [IRIS_ROW, { ...IRIS_ROW, sepal_width: 'wide' }] },
    status: 400,
    code: 'invalid_input',
    mentions: 'instances[1].sepal_width',
  },
  {
    name: 'NaN sent as a string',
    body: { inputs: { ...IRIS_ROW, sepal_length: 'NaN' } },
    status: 400,
    code: 'invalid_input',
    mentions: 'inputs.sepal_length',
  },
  {
    name: 'Infinity (1e999 parses to it)',
    body: '{"inputs":{"sepal_length":1e999,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}}',
    status: 400,
    code: 'invalid_input',
    mentions: 'inputs.sepal_length',
  },
  {
    name: 'wrong row width',
    body: { inputs: [[5.1, 3.5, 1.4]] },
    status: 400,
    code: 'invalid_input',
    mentions: 'inputs[0]',
  },
  {
    name: 'more than 1,000 rows',
    body: { instances: Array.from({ length: 1001 }, () => IRIS_ROW) },
    status: 400,
    code: 'invalid_input',
    mentions: '1000',
  },
  {
    name: 'neither inputs nor instances',
    body: { rows: [IRIS_ROW] },
    status: 400,
    code: 'invalid_input',
    mentions: 'inputs',
  },
  {
    name: 'malformed JSON',
    body: '{"inputs": {',
    status: 400,
    code: 'invalid_json',
    mentions: 'malformed JSON',
  },
  {
    name: 'unknown model',
    path: '/predict/tulips',
    body: { inputs: IRIS_ROW },
    status: 404,
    code: 'model_not_found',
    mentions: 'tulips',
  },
  {
    name: 'unknown version',
    body: { inputs: IRIS_ROW },
    headers: { 'x-model-version': 'v7' },
    status: 404,
    code: 'version_not_found',
    mentions: 'v7',
  },
];

describe('bad input never reaches the model', () => {
  for (const bad of cases) {
    it(`${bad.name} → ${bad.status} ${bad.code}`, async () => {
      const before = await rowsLogged();
      const res = await gw.post(bad.path ?? '/predict/iris', bad.body, bad.headers);
      expect(res.status).toBe(bad.status);
      const body = await readError(res);
      expect(body.error.code).toBe(bad.code);
      expect(body.error.message).toContain(bad.mentions);
      expect(await rowsLogged()).toBe(before);
    });
  }

  it('rejects a body over 1 MiB with 413', async () => {
    const res = await gw.post('/predict/iris', {
      inputs: IRIS_ROW,
      padding: 'x'.repeat(1024 * 1024 + 1),
    });
    expect(res.status).toBe(413);
    expect((await readError(res)).error.code).toBe('payload_too_large');
  });

  it('rejects a streamed body (no Content-Length) over 1 MiB with 413 while reading it', async () => {
    // Chunked, on its own connection (no keep-alive pool to poison): only the running
    // count can catch it, there is no declared length to check up front.
    const { hostname, port } = new URL((await gw.request('/v2/health/live')).url);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          hostname,
          port,
          path: '/predict/iris',
          method: 'POST',
          agent: false,
          headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        },
        (res) => {
          let body = '';
          res.on('data', (chunk) => {
            body += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      const chunk = `{"inputs":{"pad":"${'x'.repeat(64 * 1024)}`;
      let sent = 0;
      const more = () => {
        while (sent < 20) {
          sent += 1;
          if (!req.write(chunk)) return void req.once('drain', more);
        }
        req.end();
      };
      more();
    });
    expect(answer.status).toBe(413);
    expect(parseAs(schemas.errorBody, JSON.parse(answer.body)).error.code).toBe(
      'payload_too_large',
    );
  });

  it('answers an unknown path with a JSON 404', async () => {
    const res = await gw.request('/nowhere');
    expect(res.status).toBe(404);
    expect((await readError(res)).error.code).toBe('not_found');
  });

  it('keeps serving after every rejection', async () => {
    const res = await gw.post('/predict/iris', { inputs: IRIS_ROW });
    expect(res.status).toBe(200);
  });
});
