import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRandom } from '../scripts/examples/prng.js';
import { createManualTimer } from './support/manual-timer.js';
import { parseAs, present, readControlView, readPrediction, schemas } from './support/responses.js';
import { createTestGateway, IRIS_ROW, type TestGateway } from './support/test-gateway.js';

const CLASSES = ['setosa', 'versicolor', 'virginica'];

/**
 * `users` users send 10 rows each; every prediction gets a feedback label that agrees
 * with it with probability `accuracy(version)`: the versions' true accuracies.
 */
async function trafficWithFeedback(
  gw: TestGateway,
  users: number,
  accuracy: (version: string) => number,
  random: () => number,
) {
  const body = { instances: Array.from({ length: 10 }, () => IRIS_ROW) };
  const feedback: Array<{ predictionId: string; label: string }> = [];
  for (let i = 0; i < users; i++) {
    const res = await gw.post('/predict/iris', body, { 'x-user-id': `user-${i}` });
    expect(res.status).toBe(200);
    const answer = await readPrediction(res);
    present(answer.predictionIds, 'predictionIds').forEach((predictionId, row) => {
      const predicted = present(answer.outputs[row], `row ${row}`).label;
      const wrong = CLASSES.filter((c) => c !== predicted);
      const label =
        random() < accuracy(answer.version) ? predicted : (wrong[random() < 0.5 ? 0 : 1] as string);
      feedback.push({ predictionId, label });
    });
  }
  // A few in flight at a time: the gateway answers feedback as it would from many clients.
  for (let i = 0; i < feedback.length; i += 10) {
    const sent = await Promise.all(feedback.slice(i, i + 10).map((f) => gw.post('/feedback', f)));
    expect(sent.map((r) => r.status).every((s) => s === 200)).toBe(true);
  }
}

/** A gateway with iris v3: a byte-for-byte copy of v1, so the two cannot differ. */
async function gatewayWithTwin() {
  const clock = createManualTimer();
  const gw = await createTestGateway({
    copyModels: true,
    overrides: { rolloutTimer: clock.timer },
  });
  cpSync(join(gw.modelsDir, 'iris', 'v1'), join(gw.modelsDir, 'iris', 'v3'), { recursive: true });
  expect((await gw.control('POST', '/control/load', { model: 'iris', version: 'v3' })).status).toBe(
    200,
  );
  const started = await gw.control('POST', '/control/rollout', {
    model: 'iris',
    version: 'v3',
    steps: [50, 100],
    interval: '1m',
    guards: { accuracy: { margin: 0.15 }, errorRate: { margin: 0.05 } },
  });
  expect(started.status).toBe(200);
  return { gw, clock };
}

describe('rollout decisions over HTTP (non-inferiority on confidence sequences)', () => {
  it('promotes an identical candidate once non-inferiority is shown, and not before', async () => {
    const { gw, clock } = await gatewayWithTwin();
    try {
      const random = createRandom(7);
      // Too little feedback to show anything: the step waits instead of judging noise.
      await trafficWithFeedback(gw, 10, () => 0.9, random);
      await clock.fireAll();
      const early = await readControlView(await gw.control('GET', '/control/iris'));
      expect(early.rollout).toMatchObject({ status: 'running', stepIndex: 0 });
      expect(early.rollout?.readings.map((r) => r.status)).toContain('wait');

      await trafficWithFeedback(gw, 110, () => 0.9, random);
      await clock.fireAll();
      const done = await readControlView(await gw.control('GET', '/control/iris'));
      expect(done.rollout?.status).toBe('completed');
      expect(done.deployment.live).toBe('v3');
    } finally {
      await gw.close();
    }
  }, 120_000);

  it('rolls back a candidate 15 points less accurate, with the interval in the audit', async () => {
    const { gw, clock } = await gatewayWithTwin();
    try {
      await trafficWithFeedback(
        gw,
        200,
        (version) => (version === 'v3' ? 0.75 : 0.9),
        createRandom(8),
      );
      await clock.fireAll();
      const view = await readControlView(await gw.control('GET', '/control/iris'));
      expect(view.rollout?.status).toBe('rolled_back');
      expect(view.rollout?.outcome).toContain('accuracy');
      const [event] = await gw.query<{ action: string; detail: string }>(
        "SELECT action, detail FROM deployment_events WHERE model = 'iris' ORDER BY id DESC LIMIT 1",
      );
      expect(event?.action).toBe('rollout_guard_tripped');
      const [tripped] = parseAs(schemas.trippedDetail, JSON.parse(event?.detail ?? 'null')).tripped;
      expect(tripped).toMatchObject({ guard: 'accuracy', status: 'fail', alpha: 0.025 });
      expect(tripped?.interval.upper).toBeLessThan(0);
    } finally {
      await gw.close();
    }
  }, 120_000);
});
