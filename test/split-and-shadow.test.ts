import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentState } from '../src/db/deployment-state.js';
import { flagName, routeRequest } from '../src/gateway/routing.js';
import { readControlView, readPrediction } from './support/responses.js';
import { createTestGateway, IRIS_ROW, type TestGateway } from './support/test-gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway();
});
afterAll(async () => {
  await gw.close();
});

const predictAs = async (headers: Record<string, string>, body: Record<string, unknown> = {}) =>
  readPrediction(await gw.post('/predict/iris', { inputs: IRIS_ROW, ...body }, headers));

/** iris under a local 90/10 split, as the gateway's routing sees it (the deployment is unpinned). */
const SPLIT_90_10: DeploymentState = {
  model: 'iris',
  live: 'v1',
  standby: 'v2',
  history: [],
  split: { v1: 90, v2: 10 },
  source: 'local',
  pinned: false,
  shadow: null,
  hosted: {},
  revision: 1,
};

/** The version the gateway's routing gives `key` under SPLIT_90_10, without HTTP. */
function routedVersion(key: string | undefined, random: () => number = Math.random): string {
  const decision = routeRequest({
    state: SPLIT_90_10,
    loaded: new Set(['v1', 'v2']),
    stickyKey: key,
    groupId: flagName('modelgate.', 'iris'),
    random,
  });
  if (decision.kind !== 'routed') throw new Error(`unexpected ${decision.kind}`);
  return decision.version;
}

const shareOfV2 = (versions: readonly string[]) =>
  versions.filter((v) => v === 'v2').length / versions.length;

/** Users 0..299, each with the version the split gives them: what every test below expects. */
const firstAssignment = new Map(
  Array.from({ length: 300 }, (_, i) => [i, routedVersion(`user-${i}`)] as const),
);

describe('local split', () => {
  it('lands 10,000 distinct users within ±2 points of 90/10 (the routing itself, in-process)', () => {
    const versions = Array.from({ length: 10_000 }, (_, i) => routedVersion(`user-${i}`));
    expect(shareOfV2(versions)).toBeGreaterThan(0.08);
    expect(shareOfV2(versions)).toBeLessThan(0.12);
  });

  it('serves each user over HTTP the version the routing gives them, route split', async () => {
    const res = await gw.control('PUT', '/control/split', {
      model: 'iris',
      weights: { v1: 90, v2: 10 },
    });
    expect(res.status).toBe(200);
    // Both versions among the 300 users, so the check below covers each of them.
    expect(new Set(firstAssignment.values())).toEqual(new Set(['v1', 'v2']));
    for (const [i, version] of firstAssignment) {
      expect(await predictAs({ 'x-user-id': `user-${i}` }), `user-${i}`).toMatchObject({
        version,
        route: 'split',
      });
    }
    const routes = await gw.query<{ route: string }>(
      "SELECT DISTINCT route FROM predictions WHERE model = 'iris'",
    );
    expect(routes).toEqual([{ route: 'split' }]);
  }, 60_000);

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
    const drawn = Array.from({ length: 10_000 }, () => routedVersion(undefined));
    expect(shareOfV2(drawn)).toBeGreaterThan(0.08);
    expect(shareOfV2(drawn)).toBeLessThan(0.12);
    // Over HTTP too: 200 keyless requests all miss v2 with probability 0.9^200 < 1e-9.
    const served: string[] = [];
    for (let i = 0; i < 200; i++) {
      const answer = await predictAs({});
      expect(answer.route).toBe('split');
      served.push(answer.version);
    }
    expect(new Set(served)).toEqual(new Set(['v1', 'v2']));
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
    const override = await readPrediction(
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
    const view = await readControlView(
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
    // The mirror runs after the response (setImmediate), and its row reaches the log later.
    const rowsOf = async () => {
      await gw.gate.flushLog();
      return await gw.query<{
        id: string;
        version: string;
        route: string;
        shadow_of: string | null;
      }>(
        "SELECT id, version, route, shadow_of FROM predictions WHERE request_id = 'shadow-req' ORDER BY version",
      );
    };
    await expect.poll(rowsOf).toHaveLength(2);
    const rows = await rowsOf();
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
    // Mirrors run after their responses: count once the logged number stops moving.
    const shadows = async () => {
      await gw.gate.flushLog();
      const [row] = await gw.query<{ shadows: number }>(
        "SELECT count(*) AS shadows FROM predictions WHERE route = 'shadow' AND request_id LIKE 'share-%'",
      );
      return row?.shadows ?? 0;
    };
    let previous = -1;
    const settled = async () => {
      const now = await shadows();
      const same = now === previous;
      previous = now;
      return same;
    };
    await expect.poll(settled, { interval: 200, timeout: 10_000 }).toBe(true);
    expect(previous).toBeGreaterThan(0.2 * 2000);
    expect(previous).toBeLessThan(0.3 * 2000);
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
