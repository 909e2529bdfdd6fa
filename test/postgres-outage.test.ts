import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/pg-database.js';
import { present, readError, readPrediction, readReadiness } from './support/responses.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import { createTestGateway, IRIS_ROW, type TestGateway } from './support/test-gateway.js';

let database: TestDatabase;
let proxy: TcpProxy;
let gw: TestGateway;

beforeAll(async () => {
  database = await createTestDatabase();
  proxy = await startTcpProxy(database.url);
  gw = await createTestGateway({
    env: {
      MODELGATE_DATABASE_URL: proxy.url,
      MODELGATE_DB_REFRESH_MS: '200',
      MODELGATE_LOG_MAX_QUEUE: '1000',
    },
  });
}, 30_000);

afterAll(async () => {
  await gw?.close();
  await proxy?.close();
  await database?.drop();
});

const predict = async () => {
  const res = await gw.post('/predict/iris', { inputs: IRIS_ROW });
  return { status: res.status, body: res.ok ? await readPrediction(res) : await readError(res) };
};
const ready = async () => {
  const res = await gw.request('/v2/health/ready');
  return { status: res.status, body: await readReadiness(res) };
};
const loggedRows = async () => {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  const { rows } = await client.query('SELECT count(*)::int AS n FROM predictions');
  await client.end();
  return rows[0].n as number;
};

describe('PostgreSQL briefly unreachable', () => {
  it('keeps answering from the last known state, reports it, and logs every row once it is back', async () => {
    let answered = 0;
    for (let i = 0; i < 20; i++) if ((await predict()).status === 200) answered += 1;
    const served = (await predict()).body;
    const servedId = present(
      'predictionId' in served ? served.predictionId : undefined,
      'a served prediction',
    );
    answered += 1;
    await gw.gate.flushLog();
    expect((await ready()).body).toMatchObject({ ready: true, degraded: false });

    await proxy.down();
    for (let i = 0; i < 30; i++) {
      const { status, body } = await predict();
      expect(status).toBe(200);
      expect(body).toMatchObject({ version: 'v1' });
      answered += 1;
    }
    // Still in the load balancer (every replica shares the database), but degraded.
    await expect
      .poll(async () => (await ready()).body.degraded === true, { timeout: 10_000 })
      .toBe(true);
    const during = await ready();
    expect(during.status).toBe(200);
    expect(during.body.storage).toMatchObject({ kind: 'postgres', ok: false, accepting: true });
    expect(during.body.storage.detail).toContain('postgres unreachable');
    // Past the buffer's bound a prediction is refused rather than answered unlogged,
    // and the replica leaves the load balancer until the database is back.
    let refused: { status: number; body: Awaited<ReturnType<typeof readError>> } | undefined;
    for (let i = 0; i < 20 && !refused; i++) {
      const res = await gw.post('/predict/iris', { instances: Array(100).fill(IRIS_ROW) });
      if (res.status === 200) answered += 100;
      else refused = { status: res.status, body: await readError(res) };
    }
    expect(refused?.status).toBe(503);
    expect(refused?.body.error.code).toBe('unavailable');
    expect(refused?.body.error.message).toContain('rows wait for the database');
    const full = await ready();
    expect(full.status).toBe(503);
    expect(full.body).toMatchObject({ ready: false, storage: { accepting: false } });
    // A control change cannot be made durable: refused whole, with a 503 to retry.
    const promote = await gw.control('POST', '/control/promote', { model: 'iris', version: 'v2' });
    expect(promote.status).toBe(503);
    expect((await readError(promote)).error.code).toBe('unavailable');
    expect((await predict()).body).toMatchObject({ version: 'v1' });
    answered += 1;
    // Reads that need the database say so with the same retryable 503, not a 500.
    const compare = await gw.request('/compare/iris');
    expect({ status: compare.status, code: (await readError(compare)).error.code }).toEqual({
      status: 503,
      code: 'unavailable',
    });
    const feedback = await gw.post('/feedback', { predictionId: servedId, label: 'setosa' });
    expect({ status: feedback.status, code: (await readError(feedback)).error.code }).toEqual({
      status: 503,
      code: 'unavailable',
    });

    await proxy.up();
    // Ready again after the next write; no longer degraded once every path has reconnected.
    await expect
      .poll(
        async () => {
          const { status, body } = await ready();
          return status === 200 && body.degraded === false;
        },
        { timeout: 10_000 },
      )
      .toBe(true);
    await gw.gate.flushLog();
    expect(await loggedRows()).toBe(answered);
  }, 30_000);
});
