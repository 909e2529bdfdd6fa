import { describe, expect, it } from 'vitest';
import { createManualTimer } from './support/manual-timer.js';
import { readControlView, readPrediction } from './support/responses.js';
import { createTestGateway, IRIS_ROW, type TestGateway } from './support/test-gateway.js';

/** A gate inside the rollout evaluation: the test learns when it is reached and says when to go on. */
function createGate() {
  let armed = false;
  let reached: () => void = () => {};
  let release: () => void = () => {};
  const reachedPromise = { current: Promise.resolve() };
  return {
    arm() {
      armed = true;
      reachedPromise.current = new Promise<void>((resolve) => {
        reached = resolve;
      });
    },
    reached: () => reachedPromise.current,
    release: () => release(),
    async hold(): Promise<void> {
      if (!armed) return;
      armed = false;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      reached();
      await released;
    },
  };
}

async function traffic(gw: TestGateway, users: number) {
  for (let i = 0; i < users; i++) {
    const res = await gw.post('/predict/iris', { inputs: IRIS_ROW }, { 'x-user-id': `race-${i}` });
    expect(res.status).toBe(200);
  }
}

const actions = async (gw: TestGateway) =>
  (
    await gw.query<{ action: string }>(
      "SELECT action FROM deployment_events WHERE model = 'iris' ORDER BY id",
    )
  ).map((row) => row.action);

describe('an abort that lands while a step is being evaluated', () => {
  for (const [outcome, users] of [
    ['would advance the step', 400],
    ['would hold the step for another interval', 0],
  ] as const) {
    it(`stands when the evaluation ${outcome}`, async () => {
      const clock = createManualTimer();
      const gate = createGate();
      const gw = await createTestGateway({
        overrides: { rolloutTimer: clock.timer, rolloutEvaluationGate: () => gate.hold() },
      });
      try {
        const started = await gw.control('POST', '/control/rollout', {
          model: 'iris',
          version: 'v2',
          steps: [10, 50, 100],
          interval: '2m',
          guards: { errorRate: { margin: 0.5 } },
        });
        expect(started.status).toBe(200);
        await traffic(gw, users);

        gate.arm();
        const evaluation = clock.fireAll();
        await gate.reached();
        // The evaluation has read its window and waits; the abort goes through meanwhile.
        const aborted = await gw.control('POST', '/control/rollout/abort', {
          model: 'iris',
          reason: 'race',
        });
        expect(aborted.status).toBe(200);
        gate.release();
        await evaluation;

        const view = await readControlView(await gw.control('GET', '/control/iris'));
        expect(view.rollout?.status).toBe('aborted');
        expect(view.deployment).toMatchObject({ live: 'v1', split: null });
        expect(clock.pendingDelays()).toEqual([]);
        expect(await actions(gw)).toEqual(['init', 'rollout_start', 'rollout_abort']);
        const served = await readPrediction(
          await gw.post('/predict/iris', { inputs: IRIS_ROW, userId: 'x' }),
        );
        expect(served.version).toBe('v1');
      } finally {
        await gw.close();
      }
    });
  }

  it('an abort sent together with an evaluation always ends the rollout aborted', async () => {
    const clock = createManualTimer();
    const gw = await createTestGateway({ overrides: { rolloutTimer: clock.timer } });
    try {
      await gw.control('POST', '/control/rollout', {
        model: 'iris',
        version: 'v2',
        steps: [10, 50, 100],
        interval: '2m',
        guards: { errorRate: { margin: 0.5 } },
      });
      await traffic(gw, 400);
      const [, aborted] = await Promise.all([
        clock.fireAll(),
        gw.control('POST', '/control/rollout/abort', { model: 'iris' }),
      ]);
      expect(aborted.status).toBe(200);
      const view = await readControlView(await gw.control('GET', '/control/iris'));
      expect(view.rollout?.status).toBe('aborted');
      expect(view.deployment.split).toBeNull();
      expect(clock.pendingDelays()).toEqual([]);
      expect((await actions(gw)).at(-1)).toBe('rollout_abort');
    } finally {
      await gw.close();
    }
  });
});
