import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { significant } from '../src/compare/number-format.js';
import { runCompareCli, runCompareCliOnPostgres } from './support/compare-cli.js';
import { treeRegressor, treeRegressorValue, writeVersion } from './support/converter-graphs.js';
import { asymptoticSequence, normalMeanInterval } from './support/mean-intervals.js';
import { createTestDatabase, type TestDatabase } from './support/pg-database.js';
import { present, readCompare, readValuePrediction } from './support/responses.js';
import { createTestGateway, type TestGateway } from './support/test-gateway.js';

/** Two regressors exported to ONNX (TreeEnsembleRegressor, float [N, 1]), no model.json. */
const LEAVES = { v1: [100, 200, 300], v2: [110, 190, 330] } as const;

/**
 * Rows landing on each leaf: x0 ≤ 10 → first, x1 ≤ 5 → second, else third. One row on
 * the lowest leaf, so p5 (rank 1 of 20) is it and rank 2 is not.
 */
const ROWS = [
  [1, 0],
  ...Array.from({ length: 12 }, () => [20, 1]),
  ...Array.from({ length: 7 }, () => [20, 9]),
];
/** The true value of each row: what the user's system later learns. */
const truth = (i: number) => [104, 98, 195, 330][i % 4] as number;

const nearestRank = (sorted: number[], p: number) =>
  sorted[Math.ceil((p / 100) * sorted.length) - 1] as number;
describe.each(['sqlite', 'postgresql'] as const)('/compare for regressors (%s)', (storage) => {
  let dir: string;
  let gw: TestGateway;
  let database: TestDatabase | undefined;
  let report: Awaited<ReturnType<typeof readCompare>>;
  const versionOf = (version: string) =>
    present(
      report.versions.find((v) => v.version === version),
      version,
    );
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'modelgate-regression-'));
    const models = join(dir, 'models');
    writeVersion(models, 'price', 'v1', treeRegressor(LEAVES.v1));
    writeVersion(models, 'price', 'v2', treeRegressor(LEAVES.v2));
    database = storage === 'postgresql' ? await createTestDatabase() : undefined;
    gw = await createTestGateway({
      dir,
      env: {
        MODELGATE_MODELS_DIR: models,
        ...(database ? { MODELGATE_DATABASE_URL: database.url } : {}),
      },
    });
    for (const version of ['v1', 'v2'] as const) {
      const res = await gw.post('/predict/price', { inputs: ROWS }, { 'x-model-version': version });
      expect(res.status).toBe(200);
      const { predictionIds } = await readValuePrediction(res);
      for (const [i, predictionId] of present(predictionIds, 'predictionIds').entries()) {
        const feedback = await gw.post('/feedback', { predictionId, value: truth(i) });
        expect(feedback.status).toBe(200);
      }
    }
    report = await readCompare(await gw.request('/compare/price'));
  });
  afterAll(async () => {
    await gw.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives each version the distribution of its predicted values', () => {
    for (const version of ['v1', 'v2'] as const) {
      const values = ROWS.map((row) => treeRegressorValue(row, LEAVES[version]));
      const sorted = [...values].sort((a, b) => a - b);
      const figures = versionOf(version);
      expect(figures.task).toBe('regression');
      const predicted = present(figures.predicted, 'predicted');
      expect(predicted.n).toBe(ROWS.length);
      expect(predicted.mean).toBeCloseTo(normalMeanInterval(values).mean, 9);
      expect([predicted.p5, predicted.p50, predicted.p95]).toEqual([
        nearestRank(sorted, 5),
        nearestRank(sorted, 50),
        nearestRank(sorted, 95),
      ]);
      // Classification figures do not apply: no label mix, no accuracy, not zeros.
      expect(figures.labels).toEqual({});
      expect(figures.accuracy).toBeNull();
    }
  });

  it('gives MAE and RMSE with 95 % intervals from the numeric feedback', () => {
    for (const version of ['v1', 'v2'] as const) {
      const errors = ROWS.map((row, i) => treeRegressorValue(row, LEAVES[version]) - truth(i));
      const absolute = normalMeanInterval(errors.map(Math.abs));
      const squared = normalMeanInterval(errors.map((e) => e * e));
      const error = present(versionOf(version).error, 'error');
      expect(error.n).toBe(ROWS.length);
      expect(error.mae).toBeCloseTo(absolute.mean, 9);
      expect(error.maeInterval?.low).toBeCloseTo(Math.max(0, absolute.low), 9);
      expect(error.maeInterval?.high).toBeCloseTo(absolute.high, 9);
      expect(error.rmse).toBeCloseTo(Math.sqrt(squared.mean), 9);
      expect(error.rmseInterval?.low).toBeCloseTo(Math.sqrt(Math.max(0, squared.low)), 9);
      expect(error.rmseInterval?.high).toBeCloseTo(Math.sqrt(squared.high), 9);
      // The always-valid ones (the dashboard shows only these): the RMSE's through the root.
      const absoluteCs = asymptoticSequence(errors.map(Math.abs));
      const squaredCs = asymptoticSequence(errors.map((e) => e * e));
      const { mae, rmse } = error.sequential;
      expect(mae?.low).toBeCloseTo(Math.max(0, absoluteCs.low), 9);
      expect(mae?.high).toBeCloseTo(absoluteCs.high, 9);
      expect(rmse?.low).toBeCloseTo(Math.sqrt(Math.max(0, squaredCs.low)), 9);
      expect(rmse?.high).toBeCloseTo(Math.sqrt(squaredCs.high), 9);
    }
    expect(versionOf('v1').error?.mae).not.toBeCloseTo(present(versionOf('v2').error?.mae), 3);
  });

  it('npm run compare prints MAE and RMSE with both intervals, labelled, and no label distribution', async () => {
    const { stdout } = database
      ? await runCompareCliOnPostgres('price', database.url)
      : await runCompareCli('price', gw.dbPath);
    const lines = stdout.split('\n');
    const heading = lines.indexOf('predicted values and errors (regression)');
    expect(heading).toBeGreaterThan(0);
    expect(lines[heading + 1]).toMatch(
      /^version .*MAE \(fixed horizon 95% CI\)\s+always valid 95% CS\s+RMSE \(fixed horizon 95% CI\)\s+always valid 95% CS\s+feedback$/,
    );
    for (const [k, version] of (['v1', 'v2'] as const).entries()) {
      const error = present(versionOf(version).error, 'error');
      const { mae, rmse } = error.sequential;
      const cells = (lines[heading + 2 + k] ?? '').split(/\s{2,}/);
      expect(cells[0]).toBe(version);
      // The fixed-horizon figure with its interval, then the always-valid sequence, for each.
      const range = (r: { low: number; high: number } | null | undefined) =>
        `${significant(present(r).low)}–${significant(present(r).high)}`;
      expect(cells.slice(5, 10)).toEqual([
        `${significant(error.mae)} (${range(error.maeInterval)})`,
        range(mae),
        `${significant(error.rmse)} (${range(error.rmseInterval)})`,
        range(rmse),
        String(ROWS.length),
      ]);
      // Always valid is the wider of the two: it holds at every sample size at once.
      expect(present(mae).high - present(mae).low).toBeGreaterThan(
        present(error.maeInterval).high - present(error.maeInterval).low,
      );
    }
    expect(stdout).not.toContain('label distribution');
    expect(stdout).not.toContain('accuracy: needs feedback');
  }, 120_000);
});
