import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/pg-database.js';
import { readControlView, readError } from './support/responses.js';
import {
  CONTROL_TOKEN,
  createTestGateway,
  IRIS_ROW,
  type TestGateway,
} from './support/test-gateway.js';

// What PostgreSQL refuses (NUL in text, a bigint out of range) is a 400 before the query,
// never the database's error surfacing as a 500.
let database: TestDatabase;
let gw: TestGateway;

beforeAll(async () => {
  database = await createTestDatabase();
  gw = await createTestGateway({ env: { MODELGATE_DATABASE_URL: database.url } });
}, 30_000);

afterAll(async () => {
  await gw?.close();
  await database?.drop();
});

const statusAndCode = async (res: Response) => ({
  status: res.status,
  code: (await readError(res)).error.code,
});

describe('hostile input on PostgreSQL', () => {
  it('NUL in a feedback predictionId or a control reason → 400', async () => {
    const feedback = await gw.request('/feedback', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"predictionId":"0199\\u0000","label":"setosa"}',
    });
    expect(await statusAndCode(feedback)).toEqual({ status: 400, code: 'invalid_input' });
    const flip = await gw.request('/control/flip', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${CONTROL_TOKEN}` },
      body: '{"model":"iris","reason":"because\\u0000"}',
    });
    expect(await statusAndCode(flip)).toEqual({ status: 400, code: 'invalid_input' });
    expect((await readControlView(await gw.control('GET', '/control/iris'))).deployment.live).toBe(
      'v1',
    );
  });

  it('since/until beyond any time → 400', async () => {
    for (const query of [
      `since=${'9'.repeat(400)}`,
      'since=99999999999999999999d',
      `until=${'9'.repeat(20)}`,
    ]) {
      const res = await gw.request(`/compare/iris?${query}`);
      expect({ query, ...(await statusAndCode(res)) }).toEqual({
        query,
        status: 400,
        code: 'invalid_input',
      });
    }
    expect((await gw.request('/compare/iris?since=7d')).status).toBe(200);
    expect((await gw.post('/predict/iris', { inputs: IRIS_ROW })).status).toBe(200);
  });
});
