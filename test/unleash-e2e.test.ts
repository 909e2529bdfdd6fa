import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from './support/child-gateway.js';
import { readControlView, readModels, readPrediction } from './support/responses.js';
import { createTestGateway, IRIS_ROW, type TestGateway } from './support/test-gateway.js';
import { createUnleashAdmin, type UnleashAdmin } from './support/unleash-admin.js';
import { startUnleash } from './support/unleash-server.js';

const FLAG = 'modelgate.iris';
let unleash: Awaited<ReturnType<typeof startUnleash>>;
let admin: UnleashAdmin;
let gw: TestGateway;

async function assign(users: number, tag = 'user') {
  const versions = new Map<string, { version: string; route: string }>();
  for (let i = 0; i < users; i++) {
    const answer = await readPrediction(
      await gw.post('/predict/iris', { inputs: IRIS_ROW }, { 'x-user-id': `${tag}-${i}` }),
    );
    versions.set(`${tag}-${i}`, { version: answer.version, route: answer.route });
  }
  const v2 = [...versions.values()].filter((a) => a.version === 'v2').length;
  return { versions, share: v2 / users };
}

/** vi.waitFor's settings here: the gateway polls Unleash every 200 ms. */
const WAIT = { timeout: 8000, interval: 100 };

beforeAll(async () => {
  unleash = await startUnleash();
  admin = createUnleashAdmin(unleash.adminUrl, unleash.adminToken);
  await admin.createFlag(FLAG);
  await admin.setVariants(FLAG, [
    { name: 'v1', weight: 900 },
    { name: 'v2', weight: 100 },
  ]);
  await admin.enable(FLAG);
  gw = await createTestGateway({
    env: {
      UNLEASH_URL: unleash.url,
      UNLEASH_API_TOKEN: unleash.clientToken,
      UNLEASH_REFRESH_INTERVAL: '200',
    },
  });
  const synced = await vi.waitFor(async () => {
    const { flags } = await readModels(await gw.request('/models'));
    expect(flags.synchronized).toBe(true);
    return flags;
  }, WAIT);
  expect(synced).toMatchObject({ mode: 'unleash', synchronized: true });
  expect(
    (await gw.control('PUT', '/control/source', { model: 'iris', source: 'unleash' })).status,
  ).toBe(200);
}, 120_000);

afterAll(async () => {
  await gw?.close();
  await unleash?.stop();
});

describe('traffic split by a real Unleash server', () => {
  let underUnleash: Map<string, { version: string; route: string }>;

  it('follows the flag: v1 900 / v2 100 sends 10 % ± 2 points to v2, route flag', async () => {
    const { versions, share } = await assign(3000);
    expect(share).toBeGreaterThan(0.08);
    expect(share).toBeLessThan(0.12);
    expect(new Set([...versions.values()].map((a) => a.route))).toEqual(new Set(['flag']));
    underUnleash = versions;
  }, 60_000);

  it('places every user where the same local split does: switching source moves nobody', async () => {
    await gw.control('PUT', '/control/split', { model: 'iris', weights: { v1: 90, v2: 10 } });
    const { versions } = await assign(3000);
    for (const [user, local] of versions)
      expect(local.version).toBe(underUnleash.get(user)?.version);
    expect(new Set([...versions.values()].map((a) => a.route))).toEqual(new Set(['split']));
    await gw.control('PUT', '/control/source', { model: 'iris', source: 'unleash' });
  }, 60_000);

  it('reaches traffic within the refresh interval when the weights change in Unleash', async () => {
    await admin.setVariants(FLAG, [
      { name: 'v1', weight: 500 },
      { name: 'v2', weight: 500 },
    ]);
    const { share } = await vi.waitFor(async () => {
      const result = await assign(400, 'after-change');
      expect(result.share).toBeGreaterThan(0.4);
      return result;
    }, WAIT);
    expect(share).toBeLessThan(0.6);
  }, 60_000);

  it('unpins a promoted deployment when the flag variants change', async () => {
    await gw.control('POST', '/control/promote', { model: 'iris', version: 'v2' });
    expect((await assign(20, 'pinned')).versions.get('pinned-0')?.route).toBe('pinned');
    await admin.setVariants(FLAG, [
      { name: 'v1', weight: 300 },
      { name: 'v2', weight: 700 },
    ]);
    await expect
      .poll(
        async () =>
          (await readControlView(await gw.control('GET', '/control/iris'))).deployment.pinned,
        WAIT,
      )
      .toBe(false);
    const events = await gw.query<{ action: string; actor: string }>(
      "SELECT action, actor FROM deployment_events WHERE model = 'iris' ORDER BY id DESC LIMIT 1",
    );
    expect(events[0]).toEqual({ action: 'unpin', actor: 'unleash' });
  }, 60_000);

  it('ignores a variant that names no loaded version: live serves, never a 500', async () => {
    await admin.setVariants(FLAG, [{ name: 'v7', weight: 1000 }]);
    const result = await vi.waitFor(async () => {
      const r = await assign(50, 'ghost');
      expect([...r.versions.values()].every((a) => a.route === 'live')).toBe(true);
      return r;
    }, WAIT);
    const live = (await readControlView(await gw.control('GET', '/control/iris'))).deployment.live;
    for (const answer of result.versions.values())
      expect(answer).toEqual({ version: live, route: 'live' });
  }, 60_000);

  it('keeps serving with the last known flags when Unleash goes away', async () => {
    // Live is v2 since the promote above; the flag sends everyone to v1, so only the flag explains v1.
    await admin.setVariants(FLAG, [
      { name: 'v1', weight: 1000 },
      { name: 'v2', weight: 0 },
    ]);
    await expect
      .poll(async () => {
        const r = await assign(20, 'last-known');
        return [...r.versions.values()].every((a) => a.version === 'v1' && a.route === 'flag');
      }, WAIT)
      .toBe(true);
    await unleash.stop();
    // Until the gateway has failed to reach Unleash, it has not been tested without it.
    await expect
      .poll(async () => (await readModels(await gw.request('/models'))).flags.lastError, WAIT)
      .not.toBeNull();
    const { versions } = await assign(200, 'unleash-down');
    for (const answer of versions.values())
      expect(answer).toEqual({ version: 'v1', route: 'flag' });
  }, 60_000);
});

describe('Unleash unreachable from the start', () => {
  it('serves live until flags arrive', async () => {
    const port = await freePort();
    const offline = await createTestGateway({
      env: { UNLEASH_URL: `http://127.0.0.1:${port}/api/`, UNLEASH_REFRESH_INTERVAL: '200' },
    });
    try {
      await offline.control('PUT', '/control/source', { model: 'iris', source: 'unleash' });
      for (let i = 0; i < 20; i++) {
        const res = await offline.post(
          '/predict/iris',
          { inputs: IRIS_ROW },
          { 'x-user-id': `u-${i}` },
        );
        expect(res.status).toBe(200);
        expect(await readPrediction(res)).toMatchObject({ version: 'v1', route: 'live' });
      }
      expect((await readModels(await offline.request('/models'))).flags).toMatchObject({
        synchronized: false,
      });
    } finally {
      await offline.close();
    }
  });
});
