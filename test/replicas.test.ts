import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildGateway, startChildGateway } from './support/child-gateway.js';
import { createTestDatabase, type TestDatabase } from './support/pg-database.js';
import {
  parseAs,
  readCompare,
  readControlView,
  readPrediction,
  readReadiness,
  schemas,
} from './support/responses.js';
import { IRIS_ROW } from './support/test-gateway.js';

const TOKEN = 'replica-token-for-tests-0123';

let database: TestDatabase;
let a: ChildGateway;
let b: ChildGateway;

beforeAll(async () => {
  database = await createTestDatabase();
  const env = {
    MODELGATE_DATABASE_URL: database.url,
    MODELGATE_CONTROL_TOKEN: TOKEN,
    MODELGATE_CONTROL_TOKEN_NAME: 'replica-test',
  };
  // Two real `npm start` processes on one database, started together as a rollout would.
  [a, b] = await Promise.all([startChildGateway(env), startChildGateway(env)]);
}, 120_000);

afterAll(async () => {
  await Promise.all([a?.stop('SIGTERM'), b?.stop('SIGTERM')]);
  await database?.drop();
}, 60_000);

const predict = async (gateway: ChildGateway, userId: string) => {
  const res = await fetch(`${gateway.url}/predict/iris`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-user-id': userId },
    body: JSON.stringify({ inputs: IRIS_ROW }),
  });
  expect(res.status).toBe(200);
  return (await readPrediction(res)).version;
};

const control = (
  gateway: ChildGateway,
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  body?: unknown,
) =>
  fetch(`${gateway.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

const deployment = async (gateway: ChildGateway) =>
  (await readControlView(await control(gateway, 'GET', '/control/iris'))).deployment;

describe('two replicas on one PostgreSQL', () => {
  it('agree on the initial deployment, created once', async () => {
    expect(await deployment(a)).toEqual(await deployment(b));
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const { rows } = await client.query(
      "SELECT count(*)::int AS n FROM deployment_events WHERE model = 'iris' AND action = 'init'",
    );
    await client.end();
    expect(rows[0].n).toBe(1);
  });

  it('stores one user under the same keyed hash on both replicas (one generated key, shared)', async () => {
    const ids: string[] = [];
    for (const gateway of [a, b]) {
      const res = await fetch(`${gateway.url}/predict/iris`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-user-id': 'erin@example.com' },
        body: JSON.stringify({ inputs: IRIS_ROW }),
      });
      ids.push((await readPrediction(res)).predictionId);
    }
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const hashes = async () =>
        (
          await client.query('SELECT user_hash FROM predictions WHERE id = ANY($1)', [ids])
        ).rows.map((r) => r.user_hash as string);
      await expect.poll(async () => (await hashes()).length === 2, { timeout: 2000 }).toBe(true);
      const [first, second] = await hashes();
      expect(first).toBe(second);
      const { rows } = await client.query("SELECT value FROM secrets WHERE name = 'user_hash_key'");
      expect(first).toBe(
        createHmac('sha256', rows[0].value).update('erin@example.com').digest('hex').slice(0, 32),
      );
    } finally {
      await client.end();
    }
  });

  it('serves a promote made on A from B within a second', async () => {
    expect(await predict(b, 'u-1')).toBe('v1');
    const res = await control(a, 'POST', '/control/promote', { model: 'iris', version: 'v2' });
    expect(res.status).toBe(200);
    await expect.poll(async () => (await predict(b, 'u-1')) === 'v2', { timeout: 1000 }).toBe(true);
    await control(a, 'POST', '/control/rollback', { model: 'iris' });
    await expect.poll(async () => (await predict(b, 'u-1')) === 'v1', { timeout: 1000 }).toBe(true);
  });

  it('gives every user the same version on both replicas under a split', async () => {
    const res = await control(b, 'PUT', '/control/split', {
      model: 'iris',
      weights: { v1: 50, v2: 50 },
    });
    expect(res.status).toBe(200);
    await expect
      .poll(async () => (await deployment(a)).split?.v2 === 50, { timeout: 1000 })
      .toBe(true);
    const users = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    const onA = await Promise.all(users.map((u) => predict(a, u)));
    const onB = await Promise.all(users.map((u) => predict(b, u)));
    expect(onB).toEqual(onA);
    expect(new Set(onA)).toEqual(new Set(['v1', 'v2']));
  });

  it('serialises concurrent changes on both replicas: no lost update, every change audited', async () => {
    const before = await deployment(a);
    const results = await Promise.all([
      control(a, 'POST', '/control/flip', { model: 'iris', reason: 'flip on a' }),
      control(b, 'POST', '/control/flip', { model: 'iris', reason: 'flip on b' }),
      control(a, 'POST', '/control/flip', { model: 'iris', reason: 'flip again on a' }),
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    const expected = { live: before.standby, standby: before.live, revision: before.revision + 3 };
    await expect
      .poll(
        async () => {
          const [onA, onB] = await Promise.all([deployment(a), deployment(b)]);
          return [onA, onB].every(
            (d) =>
              d.live === expected.live &&
              d.standby === expected.standby &&
              d.revision === expected.revision,
          );
        },
        { timeout: 1000 },
      )
      .toBe(true);
    const { events } = await readControlView(await control(b, 'GET', '/control/iris'));
    expect(
      events
        .slice(0, 3)
        .map((e) => e.reason)
        .sort(),
    ).toEqual(['flip again on a', 'flip on a', 'flip on b']);
    // Audit rows chain: each flip starts from where the one before ended.
    const flips = events.slice(0, 3).reverse();
    for (let i = 1; i < flips.length; i++) expect(flips[i]?.from).toBe(flips[i - 1]?.to);
  });

  it('refuses none of 500 concurrent changes sent to both replicas', async () => {
    const before = await deployment(a);
    const results = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        control(i % 2 === 0 ? a : b, 'POST', '/control/flip', {
          model: 'iris',
          reason: `storm ${i}`,
        }),
      ),
    );
    const refused = results.filter((r) => r.status !== 200);
    expect(
      await Promise.all(refused.slice(0, 3).map(async (r) => `${r.status} ${await r.text()}`)),
    ).toEqual([]);
    // An even number of flips: back where it started, 500 revisions later, on both.
    const expected = { live: before.live, revision: before.revision + 500 };
    // Convergence speed is another test's claim; under a loaded machine this may take a while.
    await expect
      .poll(
        async () => {
          const [onA, onB] = await Promise.all([deployment(a), deployment(b)]);
          return [onA, onB].every(
            (d) => d.live === expected.live && d.revision === expected.revision,
          );
        },
        { timeout: 10_000 },
      )
      .toBe(true);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const { rows } = await client.query(
      "SELECT count(*)::int AS n FROM deployment_events WHERE model = 'iris' AND reason LIKE 'storm %'",
    );
    await client.end();
    expect(rows[0].n).toBe(500);
  }, 120_000);

  it('drives a progressive rollout from exactly one replica, whichever it was started on', async () => {
    const leads = async (gateway: ChildGateway) =>
      (await readReadiness(await fetch(`${gateway.url}/v2/health/ready`))).storage.leads;
    await expect
      .poll(async () => (await leads(a)) !== (await leads(b)), { timeout: 2000 })
      .toBe(true);
    const follower = (await leads(a)) ? b : a;
    const before = await deployment(a);
    const res = await control(follower, 'POST', '/control/rollout', {
      model: 'iris',
      version: before.standby,
      steps: [25, 50, 100],
      interval: '1s',
    });
    expect(res.status).toBe(200);
    await expect
      .poll(async () => (await deployment(a)).live === before.standby, { timeout: 8000 })
      .toBe(true);
    await expect
      .poll(async () => (await deployment(b)).live === before.standby, { timeout: 1000 })
      .toBe(true);
    const { events } = await readControlView(await control(b, 'GET', '/control/iris'));
    const actions = events
      .filter((e) => e.action.startsWith('rollout'))
      .map((e) => e.action)
      .reverse();
    // Each step once: two replicas timing the same rollout would step it twice.
    expect(actions).toEqual(['rollout_start', 'rollout_step', 'rollout_complete']);
  }, 20_000);

  it('compares on either replica over the predictions of both', async () => {
    const sent = { a: 0, b: 0 };
    for (let i = 0; i < 30; i++) {
      await predict(a, `cmp-${i}`);
      sent.a += 1;
      await predict(b, `cmp-${i}`);
      sent.b += 1;
    }
    const total = async (gateway: ChildGateway) => {
      const report = await readCompare(await fetch(`${gateway.url}/compare/iris`));
      return report.versions.reduce((sum, v) => sum + v.requests, 0);
    };
    // /compare flushes only its own replica's queue; the other's commits within its flush interval.
    await expect
      .poll(async () => (await total(a)) === (await total(b)), { timeout: 2000 })
      .toBe(true);
    expect(await total(a)).toBeGreaterThanOrEqual(sent.a + sent.b);

    // The CLI reads the same shared log.
    const { stdout } = await promisify(execFile)(
      'npm',
      ['run', '--silent', 'compare', '--', '--model', 'iris', '--json'],
      { env: { ...process.env, MODELGATE_DATABASE_URL: database.url } },
    );
    const fromCli = parseAs(schemas.compareReport, JSON.parse(stdout)).versions.reduce(
      (sum, v) => sum + v.requests,
      0,
    );
    expect(fromCli).toBe(await total(a));
  });
});
