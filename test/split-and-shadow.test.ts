import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, IRIS_ROW, json, type TestGateway } from './support/test-gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway();
});
afterAll(async () => {
  await gw.close();
});

const predictAs = async (headers: Record<string, string>, body: Record<string, unknown> = {}) =>
  json(await gw.post('/predict/iris', { inputs: IRIS_ROW, ...body }, headers));

async function shareOfV2(users: number, keyOf: (i: number) => Record<string, string>) {
  let v2 = 0;
  const versions = new Map<number, string>();
  // 10,000 sequential in-process requests; app.request() needs no socket.
  for (let i = 0; i < users; i++) {
    const answer = await predictAs(keyOf(i));
    versions.set(i, answer.version);
    if (answer.version === 'v2') v2 += 1;
  }
  return { share: v2 / users, versions };
}

describe('local split', () => {
  let firstAssignment: Map<number, string>;

  it('lands 10,000 distinct users within ±2 points of 90/10', async () => {
    const res = await gw.control('PUT', '/control/split', {
      model: 'iris',
      weights: { v1: 90, v2: 10 },
    });
    expect(res.status).toBe(200);
    const { share, versions } = await shareOfV2(10_000, (i) => ({ 'x-user-id': `user-${i}` }));
    expect(share).toBeGreaterThan(0.08);
    expect(share).toBeLessThan(0.12);
    firstAssignment = versions;
    const routes = gw.query<{ route: string }>(
      "SELECT DISTINCT route FROM predictions WHERE model = 'iris'",
    );
    expect(routes).toEqual([{ route: 'split' }]);
  }, 120_000);

  it('gives the same user the same version on every request', async () => {
    for (let i = 0; i < 300; i++) {
      expect((await predictAs({ 'x-user-id': `user-${i}` })).version).toBe(firstAssignment.get(i));
    }
  }, 60_000);

  it('treats body userId and sessionId as the sticky key when there is no header', async () => {
    for (let i = 0; i < 100; i++) {
      const expected = firstAssignment.get(i);
      expect((await predictAs({}, { userId: `user-${i}` })).version).toBe(expected);
      expect((await predictAs({}, { sessionId: `user-${i}` })).version).toBe(expected);
    }
  }, 60_000);

  it('assigns requests without any key at random with the same weights', async () => {
    const { share } = await shareOfV2(3000, () => ({}));
    expect(share).toBeGreaterThan(0.07);
    expect(share).toBeLessThan(0.13);
  }, 60_000);

  it('keeps every user on their version across a restart', async () => {
    const dir = gw.dir;
    await gw.gate.close();
    gw = await createTestGateway({ dir });
    for (let i = 0; i < 300; i++) {
      expect((await predictAs({ 'x-user-id': `user-${i}` })).version).toBe(firstAssignment.get(i));
    }
  }, 60_000);

  it('is overridden by X-Model-Version and pinned by a promote', async () => {
    const override = await json(
      await gw.post(
        '/predict/iris',
        { inputs: IRIS_ROW },
        { 'x-model-version': 'v2', 'x-user-id': 'user-0' },
      ),
    );
    expect(override).toMatchObject({ version: 'v2', route: 'override' });
    await gw.control('POST', '/control/promote', { model: 'iris', version: 'v2' });
    const pinned = await predictAs({ 'x-user-id': 'user-0' });
    expect(pinned).toMatchObject({ version: 'v2', route: 'pinned' });
    const view = await json(
      await gw.control('PUT', '/control/split', { model: 'iris', weights: { v1: 90, v2: 10 } }),
    );
    expect(view.deployment.pinned).toBe(false);
    expect((await predictAs({ 'x-user-id': 'user-0' })).route).toBe('split');
  });
});

describe('shadow', () => {
  it('mirrors every request to the shadow version after the response, logged with shadow_of', async () => {
    expect(
      (await gw.control('POST', '/control/promote', { model: 'iris', version: 'v1' })).status,
    ).toBe(200);
    const shadow = await gw.control('PUT', '/control/shadow', {
      model: 'iris',
      version: 'v2',
      percent: 100,
    });
    expect(shadow.status).toBe(200);

    const served = await predictAs({ 'x-user-id': 'shadowed-user', 'x-request-id': 'shadow-req' });
    expect(served).toMatchObject({ version: 'v1', route: 'pinned' });
    // The mirror runs after the response (setImmediate); give it a turn.
    await new Promise((r) => setTimeout(r, 50));
    const rows = gw.query<{ id: string; version: string; route: string; shadow_of: string | null }>(
      "SELECT id, version, route, shadow_of FROM predictions WHERE request_id = 'shadow-req' ORDER BY version",
    );
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      id: served.predictionId,
      version: 'v1',
      route: 'pinned',
      shadow_of: null,
    });
    expect(rows[1]).toMatchObject({
      version: 'v2',
      route: 'shadow',
      shadow_of: served.predictionId,
    });
  });

  it('never changes the response: same body as with the shadow off', async () => {
    const withShadow = await predictAs({ 'x-user-id': 'same-user' });
    await gw.control('PUT', '/control/shadow', { model: 'iris', version: 'v2', percent: 0 });
    const without = await predictAs({ 'x-user-id': 'same-user' });
    expect(withShadow.outputs).toEqual(without.outputs);
    expect(withShadow.version).toBe(without.version);
  });

  it('mirrors about the configured share of requests', async () => {
    await gw.control('PUT', '/control/shadow', { model: 'iris', version: 'v2', percent: 25 });
    for (let i = 0; i < 2000; i++) await predictAs({ 'x-request-id': `share-${i}` });
    await new Promise((r) => setTimeout(r, 50));
    const [counts] = gw.query<{ shadows: number }>(
      "SELECT count(*) AS shadows FROM predictions WHERE route = 'shadow' AND request_id LIKE 'share-%'",
    );
    expect(counts?.shadows).toBeGreaterThan(0.2 * 2000);
    expect(counts?.shadows).toBeLessThan(0.3 * 2000);
  }, 60_000);

  it('refuses to shadow the live version to itself', async () => {
    const res = await gw.control('PUT', '/control/shadow', {
      model: 'iris',
      version: 'v1',
      percent: 10,
    });
    expect(res.status).toBe(409);
  });
});
