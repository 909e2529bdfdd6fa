import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModels, readPrediction } from './support/responses.js';
import { createTestGateway, IRIS_ROW, type TestGateway } from './support/test-gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway();
});
afterAll(async () => {
  await gw.close();
});

const IRIS_VIRGINICA = { sepal_length: 6.7, sepal_width: 3.0, petal_length: 5.2, petal_width: 2.3 };

describe('POST /predict/:model', () => {
  it('answers one row with version, route, prediction id, label and probabilities', async () => {
    const res = await gw.post('/predict/iris', { inputs: IRIS_ROW });
    expect(res.status).toBe(200);
    const body = await readPrediction(res);
    expect(body).toMatchObject({ model: 'iris', version: 'v1', route: 'live' });
    expect(body.predictionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('x-model-version')).toBe('v1');
    expect(res.headers.get('x-prediction-id')).toBe(body.predictionId);
    expect(body.outputs).toHaveLength(1);
    const [output] = body.outputs;
    expect(output?.label).toBe('setosa');
    expect(Object.keys(output?.probabilities ?? {})).toEqual(['setosa', 'versicolor', 'virginica']);
    const total = Object.values(output?.probabilities ?? {}).reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(1, 5);
  });

  it('answers a batch of instances row by row, each with its own prediction id', async () => {
    const res = await gw.post('/predict/iris', { instances: [IRIS_ROW, IRIS_VIRGINICA, IRIS_ROW] });
    expect(res.status).toBe(200);
    const body = await readPrediction(res);
    expect(body.outputs.map((o) => o.label)).toEqual(['setosa', 'virginica', 'setosa']);
    expect(new Set(body.predictionIds).size).toBe(3);
  });

  it('accepts positional rows in the order of model.json features', async () => {
    const res = await gw.post('/predict/iris', { inputs: [[6.7, 3.0, 5.2, 2.3]] });
    expect(res.status).toBe(200);
    expect((await readPrediction(res)).outputs[0]?.label).toBe('virginica');
  });

  it('serves another loaded version when X-Model-Version names it', async () => {
    const res = await gw.post('/predict/iris', { inputs: IRIS_ROW }, { 'x-model-version': 'v2' });
    expect(res.status).toBe(200);
    expect(await readPrediction(res)).toMatchObject({ version: 'v2', route: 'override' });
    expect(res.headers.get('x-model-version')).toBe('v2');
  });

  it('serves the penguins model with its own features', async () => {
    const res = await gw.post('/predict/penguins', {
      inputs: {
        bill_length_mm: 39.1,
        bill_depth_mm: 18.7,
        flipper_length_mm: 181,
        body_mass_g: 3750,
      },
    });
    expect(res.status).toBe(200);
    expect((await readPrediction(res)).outputs[0]?.label).toBe('Adelie');
  });
});

describe('prediction log', () => {
  it('writes one row per predicted row with version, route, hashed user, input and output', async () => {
    const res = await gw.post(
      '/predict/iris',
      { instances: [IRIS_ROW, IRIS_VIRGINICA] },
      { 'x-user-id': 'alice@example.com', 'x-request-id': 'req-log-test' },
    );
    const body = await readPrediction(res);
    const rows = await gw.query<Record<string, unknown>>(
      'SELECT * FROM predictions WHERE request_id = ? ORDER BY id',
      'req-log-test',
    );
    expect(rows.map((r) => r.id)).toEqual(body.predictionIds);
    for (const row of rows) {
      expect(row).toMatchObject({ model: 'iris', version: 'v1', route: 'live', status: 'ok' });
      expect(row.user_hash).toMatch(/^[0-9a-f]{32}$/);
      expect(JSON.stringify(row)).not.toContain('alice');
      expect(row.latency_us).toBeGreaterThan(0);
      expect(row.error).toBeNull();
      expect(row.shadow_of).toBeNull();
    }
    expect(JSON.parse(rows[1]?.input as string)).toEqual(IRIS_VIRGINICA);
    expect(rows.map((r) => r.label)).toEqual(['setosa', 'virginica']);
    const output = JSON.parse(rows[1]?.output as string);
    expect(rows[1]?.score).toBeCloseTo(output.virginica, 6);
  });

  it('keeps a plain X-Request-Id and replaces anything else with a UUID, in the answer and the log', async () => {
    const cases: Array<[given: string | undefined, kept: boolean]> = [
      ['trace_1-abc=', true],
      ['x'.repeat(255), true],
      ['x'.repeat(256), false],
      ['has space', false],
      ['semi;colon', false],
      ['', false],
      [undefined, false],
    ];
    for (const [given, kept] of cases) {
      const res = await gw.post(
        '/predict/iris',
        { inputs: IRIS_ROW },
        given === undefined ? {} : { 'x-request-id': given },
      );
      const echoed = res.headers.get('x-request-id');
      const { predictionId } = await readPrediction(res);
      if (kept) expect(echoed).toBe(given);
      else
        expect(echoed).toMatch(
          /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
        );
      await gw.gate.flushLog();
      const logged = await gw.query<{ request_id: string }>(
        'SELECT request_id FROM predictions WHERE id = ?',
        predictionId,
      );
      expect(logged).toEqual([{ request_id: echoed }]);
    }
  });

  it('stores the same hash for the same user and no hash without a key', async () => {
    const ids: string[] = [];
    for (const headers of [{ 'x-user-id': 'u-1' }, { 'x-user-id': 'u-1' }, {}] as Record<
      string,
      string
    >[]) {
      ids.push(
        (await readPrediction(await gw.post('/predict/iris', { inputs: IRIS_ROW }, headers)))
          .predictionId,
      );
    }
    const hashes = await Promise.all(
      ids.map(
        async (id) =>
          (
            await gw.query<{ user_hash: string | null }>(
              'SELECT user_hash FROM predictions WHERE id = ?',
              id,
            )
          )[0]?.user_hash,
      ),
    );
    expect(hashes[0]).toBe(hashes[1]);
    expect(hashes[0]).not.toBeNull();
    expect(hashes[2]).toBeNull();
  });

  it('hashes the user key with a keyed HMAC, the key generated once and kept in the database', async () => {
    const { predictionId } = await readPrediction(
      await gw.post('/predict/iris', { inputs: IRIS_ROW }, { 'x-user-id': 'bob@example.com' }),
    );
    const [row] = await gw.query<{ user_hash: string }>(
      'SELECT user_hash FROM predictions WHERE id = ?',
      predictionId,
    );
    const [secret] = await gw.query<{ value: string }>(
      "SELECT value FROM secrets WHERE name = 'user_hash_key'",
    );
    expect(secret?.value.length).toBeGreaterThanOrEqual(32);
    const hmac = (key: string) =>
      createHmac('sha256', key).update('bob@example.com').digest('hex').slice(0, 32);
    expect(row?.user_hash).toBe(hmac(secret?.value as string));
    // A guessed address hashed without the key does not match.
    const plain = createHash('sha256').update('bob@example.com').digest('hex').slice(0, 32);
    expect(row?.user_hash).not.toBe(plain);
  });

  it('keeps the generated key across a restart', async () => {
    const hashOf = async (gate: TestGateway) => {
      const { predictionId } = await readPrediction(
        await gate.post('/predict/iris', { inputs: IRIS_ROW }, { 'x-user-id': 'dave' }),
      );
      return (
        await gate.query<{ user_hash: string }>(
          'SELECT user_hash FROM predictions WHERE id = ?',
          predictionId,
        )
      )[0]?.user_hash;
    };
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-hash-'));
    try {
      const before = await createTestGateway({ dir });
      const first = await hashOf(before);
      await before.close();
      const after = await createTestGateway({ dir });
      expect(await hashOf(after)).toBe(first);
      await after.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('uses MODELGATE_USER_HASH_KEY when it is set', async () => {
    const key = 'a-user-hash-key-of-some-length';
    const first = await createTestGateway({ env: { MODELGATE_USER_HASH_KEY: key } });
    try {
      const { predictionId } = await readPrediction(
        await first.post('/predict/iris', { inputs: IRIS_ROW }, { 'x-user-id': 'carol' }),
      );
      expect(
        (
          await first.query<{ user_hash: string }>(
            'SELECT user_hash FROM predictions WHERE id = ?',
            predictionId,
          )
        )[0]?.user_hash,
      ).toBe(createHmac('sha256', key).update('carol').digest('hex').slice(0, 32));
    } finally {
      await first.close();
    }
  });
});

describe('GET /models', () => {
  it('lists each model with versions, live, standby and split source', async () => {
    const res = await gw.request('/models');
    expect(res.status).toBe(200);
    const { models } = await readModels(res);
    const iris = models.find((m) => m.name === 'iris');
    expect(iris).toMatchObject({ live: 'v1', standby: 'v2', splitSource: 'local', pinned: false });
    expect(iris?.versions.map((v) => v.version)).toEqual(['v1', 'v2']);
    expect(models.map((m) => m.name)).toEqual(['iris', 'penguins']);
  });
});
