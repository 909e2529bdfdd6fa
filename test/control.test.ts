import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readControlView, readError, readPrediction } from './support/responses.js';
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

const servedVersion = async () =>
  (await readPrediction(await gw.post('/predict/iris', { inputs: IRIS_ROW }))).version;
const state = async () =>
  (await readControlView(await gw.control('GET', '/control/iris'))).deployment;
const eventCount = async () =>
  (
    await gw.query<{ n: number }>(
      "SELECT count(*) AS n FROM deployment_events WHERE model = 'iris'",
    )
  )[0]?.n;

describe('control plane auth', () => {
  it('answers 401 without the token and changes nothing', async () => {
    const before = await eventCount();
    // Any Authorization that is not the token is one answer: 401, whatever was wrong with it.
    for (const [authorization, status] of [
      [undefined, 401],
      ['Bearer wrong-token-of-some-length', 401],
      ['Basic dGVzdA==', 401],
      ['Bearer', 401],
      ['Bearer a b c', 401],
      [`Token ${CONTROL_TOKEN}`, 401],
      [`Bearer ${CONTROL_TOKEN}x`, 401],
    ] as const) {
      const res = await gw.request('/control/promote', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(authorization ? { authorization } : {}),
        },
        body: JSON.stringify({ model: 'iris', version: 'v2' }),
      });
      expect(res.status).toBe(status);
      expect((await readError(res)).error.message).toContain('Authorization');
    }
    expect(await eventCount()).toBe(before);
    expect(await servedVersion()).toBe('v1');
  });
});

describe('promote, flip, rollback', () => {
  it('shows state: live, standby, split, source, pinned, history, events', async () => {
    const res = await gw.control('GET', '/control/iris');
    expect(res.status).toBe(200);
    const view = await readControlView(res);
    expect(view.deployment).toMatchObject({
      live: 'v1',
      standby: 'v2',
      split: null,
      source: 'local',
      pinned: false,
      history: [],
    });
    expect(view.loaded).toEqual(['v1', 'v2']);
    expect(view.events[0]).toMatchObject({ action: 'init', to: 'v1' });
  });

  it('promotes v2: live at once for the next request, old live standby, pinned, audited', async () => {
    const res = await gw.control('POST', '/control/promote', {
      model: 'iris',
      version: 'v2',
      reason: 'v2 wins the A/B test',
    });
    expect(res.status).toBe(200);
    expect((await readControlView(res)).deployment).toMatchObject({
      live: 'v2',
      standby: 'v1',
      pinned: true,
    });
    const answer = await readPrediction(await gw.post('/predict/iris', { inputs: IRIS_ROW }));
    expect(answer).toMatchObject({ version: 'v2', route: 'pinned' });
    const [event] = await gw.query(
      "SELECT action, from_version, to_version, actor, reason FROM deployment_events WHERE model = 'iris' ORDER BY id DESC LIMIT 1",
    );
    expect(event).toEqual({
      action: 'promote',
      from_version: 'v1',
      to_version: 'v2',
      actor: 'tester',
      reason: 'v2 wins the A/B test',
    });
  });

  it('flips live and standby in one step', async () => {
    const res = await gw.control('POST', '/control/flip', { model: 'iris' });
    expect(res.status).toBe(200);
    expect(await servedVersion()).toBe('v1');
    expect(await state()).toMatchObject({ live: 'v1', standby: 'v2' });
  });

  it('rolls back along the history and answers 409 when there is nothing left', async () => {
    expect((await gw.control('POST', '/control/rollback', { model: 'iris' })).status).toBe(200);
    expect(await servedVersion()).toBe('v2');
    expect((await gw.control('POST', '/control/rollback', { model: 'iris' })).status).toBe(200);
    expect(await servedVersion()).toBe('v1');
    const before = await eventCount();
    const res = await gw.control('POST', '/control/rollback', { model: 'iris' });
    expect(res.status).toBe(409);
    expect((await readError(res)).error.code).toBe('invalid_transition');
    expect(await eventCount()).toBe(before);
    expect(await servedVersion()).toBe('v1');
  });
});

describe('control errors', () => {
  const cases: Array<[string, 'POST' | 'PUT', string, unknown, number, string]> = [
    [
      'unknown model',
      'POST',
      '/control/promote',
      { model: 'tulips', version: 'v1' },
      404,
      'tulips',
    ],
    ['unknown version', 'POST', '/control/promote', { model: 'iris', version: 'v9' }, 404, 'v9'],
    [
      'promote the live version',
      'POST',
      '/control/promote',
      { model: 'iris', version: 'v1' },
      409,
      'v1',
    ],
    ['missing field', 'POST', '/control/promote', { model: 'iris' }, 400, 'version'],
    [
      'negative weight',
      'PUT',
      '/control/split',
      { model: 'iris', weights: { v1: -1, v2: 5 } },
      400,
      'weights.v1',
    ],
    [
      'fractional weight',
      'PUT',
      '/control/split',
      { model: 'iris', weights: { v1: 0.5 } },
      400,
      'weights.v1',
    ],
    [
      'weights of zero',
      'PUT',
      '/control/split',
      { model: 'iris', weights: { v1: 0, v2: 0 } },
      400,
      'weights',
    ],
    [
      'weights naming an unloaded version',
      'PUT',
      '/control/split',
      { model: 'iris', weights: { v1: 5, v3: 5 } },
      404,
      'v3',
    ],
    ['bad source', 'PUT', '/control/source', { model: 'iris', source: 'consul' }, 400, 'source'],
    [
      'shadow over 100 %',
      'PUT',
      '/control/shadow',
      { model: 'iris', version: 'v2', percent: 150 },
      400,
      'percent',
    ],
    [
      'unload the live version',
      'POST',
      '/control/unload',
      { model: 'iris', version: 'v1' },
      409,
      'v1',
    ],
    [
      'unload the standby version',
      'POST',
      '/control/unload',
      { model: 'iris', version: 'v2' },
      409,
      'v2',
    ],
    [
      'load a version not on disk',
      'POST',
      '/control/load',
      { model: 'iris', version: 'v42' },
      404,
      'v42',
    ],
  ];
  for (const [name, method, path, body, status, mentions] of cases) {
    it(`${name} → ${status}, nothing changes`, async () => {
      const before = { events: await eventCount(), state: await state() };
      const res = await gw.control(method, path, body);
      expect(res.status).toBe(status);
      expect((await readError(res)).error.message).toContain(mentions);
      expect(await eventCount()).toBe(before.events);
      expect(await state()).toEqual(before.state);
    });
  }

  it('rejects a malformed body with 400', async () => {
    const res = await gw.request('/control/flip', {
      method: 'POST',
      headers: { authorization: `Bearer ${CONTROL_TOKEN}`, 'content-type': 'application/json' },
      body: '{"model":',
    });
    expect(res.status).toBe(400);
  });
});

describe('concurrent control changes', () => {
  it('applies simultaneous changes one after another: none lost, each audited', async () => {
    const before = await state();
    const eventsBefore = (await eventCount()) as number;
    // Three flips and a split sent at once: a lost update would leave fewer revisions.
    const responses = await Promise.all([
      gw.control('POST', '/control/flip', { model: 'iris', reason: 'one' }),
      gw.control('POST', '/control/flip', { model: 'iris', reason: 'two' }),
      gw.control('PUT', '/control/split', { model: 'iris', weights: { v1: 60, v2: 40 } }),
      gw.control('POST', '/control/flip', { model: 'iris', reason: 'three' }),
    ]);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const after = await state();
    expect(after.revision).toBe(before.revision + 4);
    // An odd number of flips: live and standby swapped.
    expect([after.live, after.standby]).toEqual([before.standby, before.live]);
    expect(after.split).toEqual({ v1: 60, v2: 40 });
    expect(await eventCount()).toBe(eventsBefore + 4);
    const reasons = (
      await gw.query<{ reason: string | null; action: string }>(
        "SELECT action, reason FROM deployment_events WHERE model = 'iris' ORDER BY id DESC LIMIT 4",
      )
    ).map((e) => e.reason ?? e.action);
    expect(reasons.sort()).toEqual(['one', 'split', 'three', 'two']);
  });
});
