import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRandom } from '../scripts/examples/prng.js';
import {
  logisticRegressionZipMap,
  treeRegressor,
  treeRegressorValue,
  writeVersion,
} from './support/converter-graphs.js';
import { createManualTimer } from './support/manual-timer.js';
import { createTestDatabase } from './support/pg-database.js';
import {
  parseAs,
  present,
  readControlView,
  readError,
  readValuePrediction,
  schemas,
} from './support/responses.js';
import { createTestGateway, type TestGateway } from './support/test-gateway.js';

/**
 * Regressors exported to ONNX (TreeEnsembleRegressor, float [N, 1]): v1 live, v2 the same
 * tree (equal errors), v3 every leaf 15 higher (errors 15 larger on average).
 */
const LEAVES = {
  v1: [100, 200, 300],
  v2: [100, 200, 300],
  v3: [115, 215, 315],
} as const;
/** MAE and RMSE margins in the target's unit; the feedback's noise has sd 10. */
const GUARDS = { mae: { margin: 4 }, rmse: { margin: 4 } };

let dir: string | undefined;
let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  gw = undefined;
  dir = undefined;
});

async function gatewayWithRegressors(env: Record<string, string> = {}) {
  dir = mkdtempSync(join(tmpdir(), 'modelgate-rollout-regressor-'));
  const models = join(dir, 'models');
  for (const [version, leaves] of Object.entries(LEAVES)) {
    writeVersion(models, 'price', version, treeRegressor(leaves));
  }
  // And a classifier (skl2onnx LogisticRegression with ZipMap), for the guards that refuse it.
  writeVersion(models, 'iris', 'v1', logisticRegressionZipMap());
  writeVersion(models, 'iris', 'v2', logisticRegressionZipMap());
  const clock = createManualTimer();
  gw = await createTestGateway({
    dir,
    env: { MODELGATE_MODELS_DIR: models, ...env },
    overrides: { rolloutTimer: clock.timer },
  });
  return { gw, clock };
}

/**
 * `users` users send 10 rows each; each prediction gets the row's true value as numeric
 * feedback: v1's answer plus normal noise of sd 10, whichever version served it.
 */
async function trafficWithValues(gateway: TestGateway, users: number, seed: number) {
  const random = createRandom(seed);
  /** Each version's errors predicted − feedback value, to check the guards' figures against. */
  const errors = new Map<string, number[]>();
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const feedback: Array<{ predictionId: string; value: number }> = [];
  for (let i = 0; i < users; i++) {
    const rows = Array.from({ length: 10 }, () => [
      random() < 0.5 ? 1 : 20,
      random() < 0.5 ? 1 : 9,
    ]);
    const res = await gateway.post(
      '/predict/price',
      { inputs: rows },
      { 'x-user-id': `user-${i}` },
    );
    expect(res.status).toBe(200);
    const answer = await readValuePrediction(res);
    present(answer.predictionIds, 'predictionIds').forEach((predictionId, r) => {
      const row = rows[r] as number[];
      expect(answer.outputs[r]?.value).toBe(
        treeRegressorValue(row, LEAVES[answer.version as keyof typeof LEAVES]),
      );
      const value = treeRegressorValue(row, LEAVES.v1) + 10 * normal();
      feedback.push({ predictionId, value });
      const predicted = answer.outputs[r]?.value as number;
      errors.set(answer.version, [...(errors.get(answer.version) ?? []), predicted - value]);
    });
  }
  for (let i = 0; i < feedback.length; i += 10) {
    const sent = await Promise.all(
      feedback.slice(i, i + 10).map((f) => gateway.post('/feedback', f)),
    );
    expect(sent.map((r) => r.status).every((s) => s === 200)).toBe(true);
  }
  return errors;
}

const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const startRollout = (gateway: TestGateway, version: string, guards: unknown = GUARDS) =>
  gateway.control('POST', '/control/rollout', {
    model: 'price',
    version,
    steps: [50, 100],
    interval: '1m',
    guards,
  });

describe('rollout of a regressor guarded by MAE and RMSE (over HTTP)', () => {
  it('promotes a candidate with the same errors once non-inferiority is shown', async () => {
    const { gw, clock } = await gatewayWithRegressors();
    expect((await startRollout(gw, 'v2')).status).toBe(200);
    // A handful of values per arm is inside the burn-in: the guards wait.
    await trafficWithValues(gw, 4, 21);
    await clock.fireAll();
    const early = await readControlView(await gw.control('GET', '/control/price'));
    expect(early.rollout).toMatchObject({ status: 'running', stepIndex: 0 });
    expect(early.rollout?.readings.map((r) => r.status)).toEqual(['wait', 'wait']);

    await trafficWithValues(gw, 100, 22);
    await clock.fireAll();
    const done = await readControlView(await gw.control('GET', '/control/price'));
    expect(done.rollout?.status).toBe('completed');
    expect(done.deployment.live).toBe('v2');
    const readings = present(done.rollout, 'rollout').readings;
    expect(readings.map((r) => [r.guard, r.status])).toEqual([
      ['mae', 'pass'],
      ['rmse', 'pass'],
    ]);
    for (const r of readings) {
      expect(r.interval.upper).toBeLessThan(4);
      expect(r.samples.live + r.samples.candidate).toBe(1040);
    }
  }, 120_000);

  it('rolls back a candidate whose errors are larger, with the interval in the audit', async () => {
    const { gw, clock } = await gatewayWithRegressors();
    expect((await startRollout(gw, 'v3')).status).toBe(200);
    await trafficWithValues(gw, 40, 23);
    await clock.fireAll();
    const view = await readControlView(await gw.control('GET', '/control/price'));
    expect(view.rollout?.status).toBe('rolled_back');
    expect(view.deployment.live).toBe('v1');
    expect(view.rollout?.outcome).toContain('MAE difference');
    const [event] = await gw.query<{ action: string; detail: string }>(
      "SELECT action, detail FROM deployment_events WHERE model = 'price' ORDER BY id DESC LIMIT 1",
    );
    expect(event?.action).toBe('rollout_guard_tripped');
    const { tripped } = parseAs(schemas.trippedDetail, JSON.parse(event?.detail ?? 'null'));
    expect(tripped.map((t) => t.guard)).toEqual(['mae', 'rmse']);
    for (const t of tripped) {
      expect(t.alpha).toBe(0.025);
      expect(t.interval.lower).toBeGreaterThan(0);
      expect(t.candidate).toBeGreaterThan(present(t.live, 'live figure'));
    }
  }, 120_000);

  it('on PostgreSQL: the same window figures roll the worse candidate back', async () => {
    const database = await createTestDatabase();
    try {
      const { gw, clock } = await gatewayWithRegressors({ MODELGATE_DATABASE_URL: database.url });
      expect((await startRollout(gw, 'v3')).status).toBe(200);
      const errors = await trafficWithValues(gw, 40, 23);
      // The replica times the rollout once it holds the leader lock.
      await vi.waitFor(() => expect(clock.pendingDelays()).toHaveLength(1), { timeout: 10_000 });
      await clock.fireAll();
      const view = await readControlView(await gw.control('GET', '/control/price'));
      expect(view.rollout?.status).toBe('rolled_back');
      expect(view.deployment.live).toBe('v1');
      const readings = view.rollout?.readings as Array<{
        guard: string;
        status: string;
        live: number;
        candidate: number;
        samples: { live: number; candidate: number };
      }>;
      expect(readings.map((r) => [r.guard, r.status])).toEqual([
        ['mae', 'fail'],
        ['rmse', 'fail'],
      ]);
      // PostgreSQL's sums give the MAE and RMSE computed here from the same errors.
      const live = errors.get('v1') ?? [];
      const candidate = errors.get('v3') ?? [];
      const [mae, rmse] = readings;
      expect(mae?.samples).toEqual({ live: live.length, candidate: candidate.length });
      expect(mae?.live).toBeCloseTo(meanOf(live.map(Math.abs)), 3);
      expect(mae?.candidate).toBeCloseTo(meanOf(candidate.map(Math.abs)), 3);
      expect(rmse?.live).toBeCloseTo(Math.sqrt(meanOf(live.map((e) => e * e))), 3);
      expect(rmse?.candidate).toBeCloseTo(Math.sqrt(meanOf(candidate.map((e) => e * e))), 3);
    } finally {
      await gw?.close();
      gw = undefined;
      await database.drop();
    }
  }, 120_000);

  it('refuses guards that do not fit the task with a 400 naming why, changing nothing', async () => {
    const { gw } = await gatewayWithRegressors();
    const accuracy = await startRollout(gw, 'v2', { accuracy: { margin: 0.02 } });
    expect(accuracy.status).toBe(400);
    expect((await readError(accuracy)).error.message).toContain(
      'guards.accuracy: price/v2 is a regressor',
    );
    const shadow = await startRollout(gw, 'v2', { shadowDisagreement: { maxPercent: 5 } });
    expect(shadow.status).toBe(400);
    const view = await readControlView(await gw.control('GET', '/control/price'));
    expect(view.rollout).toBeNull();
    expect(view.deployment.split).toBeNull();

    const iris = await gw.control('POST', '/control/rollout', {
      model: 'iris',
      version: 'v2',
      steps: [50, 100],
      interval: '1m',
      guards: { rmse: { margin: 1 } },
    });
    expect(iris.status).toBe(400);
    expect((await readError(iris)).error.message).toMatch(
      /^guards\.rmse: iris\/v2 is a classifier, .*predicts a label, not a value; use "accuracy"$/,
    );
    expect((await readControlView(await gw.control('GET', '/control/iris'))).rollout).toBeNull();
  }, 60_000);
});
