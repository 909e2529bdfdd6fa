import { describe, expect, it } from 'vitest';
import { writeFaultyIrisVersion } from './support/faulty-model.js';
import { createManualTimer } from './support/manual-timer.js';
import {
  parseAs,
  readControlView,
  readError,
  readPrediction,
  schemas,
} from './support/responses.js';
import { createTestGateway, IRIS_ROW, type TestGateway } from './support/test-gateway.js';

async function traffic(
  gw: TestGateway,
  users: number,
  tag: string,
  body: unknown = { inputs: IRIS_ROW },
) {
  const assigned = new Map<string, string>();
  const statuses: number[] = [];
  for (let i = 0; i < users; i++) {
    const res = await gw.post('/predict/iris', body, { 'x-user-id': `${tag}-${i}` });
    statuses.push(res.status);
    if (res.status === 200) assigned.set(`${tag}-${i}`, (await readPrediction(res)).version);
    else await res.arrayBuffer();
  }
  return { assigned, statuses };
}

describe('progressive rollout', () => {
  it('moves the candidate through its steps, keeps moved users moved, and promotes at the end', async () => {
    const clock = createManualTimer();
    const gw = await createTestGateway({ overrides: { rolloutTimer: clock.timer } });
    try {
      const started = await gw.control('POST', '/control/rollout', {
        model: 'iris',
        version: 'v2',
        steps: [10, 50, 100],
        interval: '2m',
        // ~40 requests reach v2 at 10 %: only a wide margin can be shown that soon.
        guards: { errorRate: { margin: 0.5 } },
      });
      expect(started.status).toBe(200);
      const view = await readControlView(started);
      expect(view.rollout).toMatchObject({
        candidate: 'v2',
        baseline: 'v1',
        stepIndex: 0,
        status: 'running',
      });
      expect(view.rollout?.nextEvaluationAt).toBeGreaterThan(Date.now());
      expect(view.deployment.split).toEqual({ v1: 90, v2: 10 });
      expect(clock.pendingDelays()).toEqual([120_000]);

      const first = await traffic(gw, 400, 'user');
      const movedAtTen = [...first.assigned].filter(([, v]) => v === 'v2').map(([user]) => user);
      expect(movedAtTen.length).toBeGreaterThan(20);
      expect(movedAtTen.length).toBeLessThan(70);

      await clock.fireAll();
      const atFifty = await readControlView(await gw.control('GET', '/control/iris'));
      expect(atFifty.rollout?.stepIndex).toBe(1);
      expect(atFifty.deployment.split).toEqual({ v1: 50, v2: 50 });
      expect(atFifty.rollout?.readings[0]).toMatchObject({ guard: 'errorRate', status: 'pass' });
      const second = await traffic(gw, 400, 'user');
      for (const user of movedAtTen) expect(second.assigned.get(user)).toBe('v2');

      await clock.fireAll();
      const done = await readControlView(await gw.control('GET', '/control/iris'));
      expect(done.rollout?.status).toBe('completed');
      expect(done.deployment).toMatchObject({
        live: 'v2',
        standby: 'v1',
        pinned: true,
        split: null,
      });
      expect(clock.pendingDelays()).toEqual([]);
      const actions = await gw.query<{ action: string; actor: string }>(
        "SELECT action, actor FROM deployment_events WHERE model = 'iris' ORDER BY id",
      );
      expect(actions.map((a) => a.action)).toEqual([
        'init',
        'rollout_start',
        'rollout_step',
        'rollout_complete',
      ]);
      expect(actions.slice(2).every((a) => a.actor === 'rollout')).toBe(true);
    } finally {
      await gw.close();
    }
  }, 60_000);

  it('rolls back by itself when the candidate fails, with the guard and its numbers audited', async () => {
    const clock = createManualTimer();
    const gw = await createTestGateway({
      copyModels: true,
      overrides: { rolloutTimer: clock.timer },
    });
    try {
      writeFaultyIrisVersion(gw.modelsDir, 'v9');
      await gw.control('POST', '/control/load', { model: 'iris', version: 'v9' });
      const started = await gw.control('POST', '/control/rollout', {
        model: 'iris',
        version: 'v9',
        steps: [50, 100],
        interval: '1s',
        guards: { errorRate: { margin: 0.05 } },
      });
      expect(started.status).toBe(200);

      // Two-row requests: the faulty version fails every one it gets.
      const body = { instances: [IRIS_ROW, IRIS_ROW] };
      const during = await traffic(gw, 200, 'user', body);
      expect(during.statuses.every((s) => s === 200 || s === 500)).toBe(true);
      expect(during.statuses.filter((s) => s === 500).length).toBeGreaterThan(50);

      await clock.fireAll();
      const view = await readControlView(await gw.control('GET', '/control/iris'));
      expect(view.rollout?.status).toBe('rolled_back');
      expect(view.rollout?.outcome).toContain('errorRate');
      expect(view.deployment).toMatchObject({ live: 'v1', split: null, pinned: true });
      const [event] = await gw.query<{ action: string; reason: string; detail: string }>(
        "SELECT action, reason, detail FROM deployment_events WHERE model = 'iris' ORDER BY id DESC LIMIT 1",
      );
      expect(event?.action).toBe('rollout_guard_tripped');
      expect(event?.reason).toContain('errorRate');
      const detail = parseAs(schemas.trippedDetail, JSON.parse(event?.detail ?? 'null'));
      expect(detail.tripped[0]).toMatchObject({
        guard: 'errorRate',
        status: 'fail',
        live: 0,
        candidate: 1,
      });

      const after = await traffic(gw, 50, 'after', body);
      expect(after.statuses.every((s) => s === 200)).toBe(true);
      expect(new Set(after.assigned.values())).toEqual(new Set(['v1']));
    } finally {
      await gw.close();
    }
  }, 60_000);

  it('survives a restart and resumes with the time already spent', async () => {
    const clock = createManualTimer();
    const gw = await createTestGateway({ overrides: { rolloutTimer: clock.timer } });
    await gw.control('POST', '/control/rollout', {
      model: 'iris',
      version: 'v2',
      steps: [20, 100],
      interval: '1h',
    });
    const dir = gw.dir;
    await gw.gate.close();

    const resumedClock = createManualTimer();
    const again = await createTestGateway({ dir, overrides: { rolloutTimer: resumedClock.timer } });
    try {
      const view = await readControlView(await again.control('GET', '/control/iris'));
      expect(view.rollout).toMatchObject({ status: 'running', stepIndex: 0, candidate: 'v2' });
      const [remaining] = resumedClock.pendingDelays();
      expect(remaining).toBeLessThan(3_600_000);
      expect(remaining).toBeGreaterThan(3_500_000);
      await resumedClock.fireAll();
      expect(
        (await readControlView(await again.control('GET', '/control/iris'))).deployment.live,
      ).toBe('v2');
    } finally {
      await again.close();
    }
  });

  it('aborts: all traffic back to live, and refuses bad or competing rollouts', async () => {
    const clock = createManualTimer();
    const gw = await createTestGateway({ overrides: { rolloutTimer: clock.timer } });
    try {
      const start = { model: 'iris', version: 'v2', steps: [10, 100], interval: '1m' };
      const bad: Array<[unknown, number, string]> = [
        [{ ...start, version: 'v7' }, 404, 'v7'],
        [{ ...start, version: 'v1' }, 409, 'already live'],
        [{ ...start, steps: [50, 20] }, 400, 'steps[1]'],
        [{ ...start, steps: [0, 100] }, 400, 'steps[0]'],
        [{ ...start, interval: '300ms' }, 400, 'interval'],
        [{ ...start, interval: 'whenever' }, 400, 'interval'],
        [{ ...start, guards: { errorRate: { margin: -1 } } }, 400, 'guards.errorRate.margin'],
        [{ ...start, alpha: 0.7 }, 400, 'alpha'],
        [{ ...start, maxStepDuration: 'later' }, 400, 'maxStepDuration'],
        [{ ...start, maxStepDuration: '30s' }, 400, 'shorter than the interval'],
        // The fixed-threshold fields: each 400 names what replaced it.
        [
          { ...start, guards: { errorRate: { maxIncreasePoints: 1 } } },
          400,
          'guards.errorRate.maxIncreasePoints: replaced by "margin"',
        ],
        [
          { ...start, guards: { accuracy: { alpha: 0.05 } } },
          400,
          'guards.accuracy.alpha: replaced by the rollout\'s top-level "alpha"',
        ],
        [
          { ...start, guards: { latencyP95: { maxRatio: 1.5, minSamples: 30 } } },
          400,
          'guards.latencyP95.minSamples: removed',
        ],
        [{ ...start, model: 'tulips' }, 404, 'tulips'],
      ];
      for (const [body, status, mentions] of bad) {
        const res = await gw.control('POST', '/control/rollout', body);
        expect(res.status, JSON.stringify(body)).toBe(status);
        expect((await readError(res)).error.message).toContain(mentions);
      }
      expect((await gw.control('POST', '/control/rollout', start)).status).toBe(200);
      const second = await gw.control('POST', '/control/rollout', start);
      expect(second.status).toBe(409);
      const manual = await gw.control('PUT', '/control/split', {
        model: 'iris',
        weights: { v1: 1, v2: 1 },
      });
      expect(manual.status).toBe(409);
      expect((await readError(manual)).error.message).toContain('abort');

      const aborted = await gw.control('POST', '/control/rollout/abort', {
        model: 'iris',
        reason: 'changed my mind',
      });
      expect(aborted.status).toBe(200);
      const view = await readControlView(aborted);
      expect(view.rollout?.status).toBe('aborted');
      expect(view.deployment).toMatchObject({ live: 'v1', split: null });
      expect(clock.pendingDelays()).toEqual([]);
      const answers = await traffic(gw, 50, 'post-abort');
      expect(new Set(answers.assigned.values())).toEqual(new Set(['v1']));
      expect((await gw.control('POST', '/control/rollout/abort', { model: 'iris' })).status).toBe(
        409,
      );
    } finally {
      await gw.close();
    }
  });
});
