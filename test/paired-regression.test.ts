import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRandom } from '../scripts/examples/prng.js';
import { formatCompareReport } from '../src/compare/format.js';
import { significant } from '../src/compare/number-format.js';
import { treeRegressor, treeRegressorValue, writeVersion } from './support/converter-graphs.js';
import { asymptoticSequence, normalMeanInterval } from './support/mean-intervals.js';
import { createTestDatabase, type TestDatabase } from './support/pg-database.js';
import { present, readCompare, readValuePrediction } from './support/responses.js';
import { createTestGateway, type TestGateway } from './support/test-gateway.js';

/** Two tree regressors (TreeEnsembleRegressor): v1 live, v2 its shadow for every request. */
const LEAVES = { v1: [100, 200, 300], v2: [104, 193, 306] } as const;
/** Each leaf's true mean; the feedback is it plus noise of sd 5. */
const TRUE_MEANS = [103, 196, 305] as const;
const REQUESTS = 6;
const ROWS_PER_REQUEST = 10;
/** Served rows that get a feedback value: the first 45 of 60. */
const WITH_FEEDBACK = 45;

const signed = (x: number) => `${x >= 0 ? '+' : ''}${significant(x)}`;

/** The seeded rows and their true values, and what both versions answer for them. */
function seeded() {
  const random = createRandom(20);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Array.from({ length: REQUESTS * ROWS_PER_REQUEST }, () => {
    const row = [random() < 0.3 ? 1 : 20, random() < 0.5 ? 1 : 9];
    const leaf = (row[0] as number) <= 10 ? 0 : (row[1] as number) <= 5 ? 1 : 2;
    const truth = Math.round(((TRUE_MEANS[leaf] as number) + 5 * normal()) * 100) / 100;
    return {
      row,
      truth,
      served: treeRegressorValue(row, LEAVES.v1),
      shadow: treeRegressorValue(row, LEAVES.v2),
    };
  });
}

describe.each(['sqlite', 'postgresql'] as const)(
  'paired shadow errors of a regressor (%s)',
  (storage) => {
    let dir: string;
    let gw: TestGateway;
    let database: TestDatabase | undefined;
    let report: Awaited<ReturnType<typeof readCompare>>;
    const rows = seeded();

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'modelgate-paired-regression-'));
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
      const shadow = { model: 'price', version: 'v2', percent: 100 };
      expect((await gw.control('PUT', '/control/shadow', shadow)).status).toBe(200);
      const ids: string[] = [];
      for (let r = 0; r < REQUESTS; r++) {
        const batch = rows.slice(r * ROWS_PER_REQUEST, (r + 1) * ROWS_PER_REQUEST);
        const res = await gw.post('/predict/price', { inputs: batch.map((b) => b.row) });
        expect(res.status).toBe(200);
        const answer = await readValuePrediction(res);
        expect(answer.version).toBe('v1');
        expect(answer.outputs.map((o) => o.value)).toEqual(batch.map((b) => b.served));
        ids.push(...present(answer.predictionIds, 'predictionIds'));
      }
      for (const [i, predictionId] of ids.slice(0, WITH_FEEDBACK).entries()) {
        const value = rows[i]?.truth;
        expect((await gw.post('/feedback', { predictionId, value })).status).toBe(200);
      }
      // The mirrored calls run after each response: wait until every one is logged.
      report = await vi.waitFor(async () => {
        const now = await readCompare(await gw.request('/compare/price'));
        expect(now.shadow[0]?.pairs).toBe(rows.length);
        return now;
      });
    }, 60_000);
    afterAll(async () => {
      await gw?.close();
      await database?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    /** Computed here from the rows sent, not from the log. */
    const judged = rows.slice(0, WITH_FEEDBACK);
    const servedErrors = judged.map((r) => r.served - r.truth);
    const shadowErrors = judged.map((r) => r.shadow - r.truth);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const absoluteDifferences = judged.map(
      (_, i) => Math.abs(shadowErrors[i] as number) - Math.abs(servedErrors[i] as number),
    );
    const squaredDifferences = judged.map(
      (_, i) => (shadowErrors[i] as number) ** 2 - (servedErrors[i] as number) ** 2,
    );

    it('gives both versions MAE and RMSE on exactly the mirrored rows with feedback values', () => {
      const [pair] = report.shadow;
      // No label to agree on or to be right about: those figures are a classifier's.
      expect(pair).toMatchObject({
        served: 'v1',
        shadow: 'v2',
        pairs: rows.length,
        agreement: null,
        sequential: null,
        paired: null,
      });
      const paired = present(pair?.pairedError, 'pairedError');
      expect(paired.n).toBe(WITH_FEEDBACK);
      expect(paired.differing).toEqual({
        mae: absoluteDifferences.filter((d) => d !== 0).length,
        mse: squaredDifferences.filter((d) => d !== 0).length,
      });
      expect(paired.servedMae).toBeCloseTo(mean(servedErrors.map(Math.abs)), 9);
      expect(paired.shadowMae).toBeCloseTo(mean(shadowErrors.map(Math.abs)), 9);
      expect(paired.servedRmse).toBeCloseTo(Math.sqrt(mean(servedErrors.map((e) => e * e))), 9);
      expect(paired.shadowRmse).toBeCloseTo(Math.sqrt(mean(shadowErrors.map((e) => e * e))), 9);
      // Every served row with feedback was mirrored, so the served side is the version's own MAE.
      const v1 = present(report.versions.find((v) => v.version === 'v1')?.error, 'v1 error');
      expect(paired.servedMae).toBeCloseTo(v1.mae, 9);
    });

    it('gives the mean paired differences shadow − served with both 95 % intervals', () => {
      const paired = present(report.shadow[0]?.pairedError, 'pairedError');
      for (const [estimate, fixed, sequential, differences] of [
        [
          paired.maeDifference,
          paired.maeDifferenceInterval,
          paired.sequential.maeDifference,
          absoluteDifferences,
        ],
        [
          paired.mseDifference,
          paired.mseDifferenceInterval,
          paired.sequential.mseDifference,
          squaredDifferences,
        ],
      ] as const) {
        const expected = normalMeanInterval(differences);
        const expectedSequence = asymptoticSequence(differences);
        expect(estimate).toBeCloseTo(expected.mean, 9);
        expect(present(fixed).low).toBeCloseTo(expected.low, 9);
        expect(present(fixed).high).toBeCloseTo(expected.high, 9);
        expect(present(sequential).low).toBeCloseTo(expectedSequence.low, 9);
        expect(present(sequential).high).toBeCloseTo(expectedSequence.high, 9);
      }
      // The seed makes the two differences unlike each other and v2 the closer one on MAE,
      // so a swap of sides or of absolute for squared shows.
      expect(paired.maeDifference).toBeLessThan(0);
      expect(paired.mseDifference).not.toBeCloseTo(paired.maeDifference, 1);
    });

    it('npm run compare prints the paired errors under the shadow line', () => {
      const paired = present(report.shadow[0]?.pairedError, 'pairedError');
      const lines = formatCompareReport(report).split('\n');
      const at = lines.indexOf(`shadow: v2 answered ${rows.length} mirrored rows of v1`);
      expect(at).toBeGreaterThan(0);
      expect(lines[at + 1]).toBe(
        `  on the same ${WITH_FEEDBACK} rows with feedback values: ` +
          `MAE v1 ${significant(paired.servedMae)}, v2 ${significant(paired.shadowMae)}; ` +
          `RMSE v1 ${significant(paired.servedRmse)}, v2 ${significant(paired.shadowRmse)}`,
      );
      const fixed = present(paired.maeDifferenceInterval);
      const sequential = present(paired.sequential.maeDifference);
      expect(lines[at + 2]).toContain(
        `  v2 − v1: MAE ${signed(paired.maeDifference)} (fixed horizon 95% CI ` +
          `${signed(fixed.low)} to ${signed(fixed.high)}; always valid 95% CS ` +
          `${signed(sequential.low)} to ${signed(sequential.high)})`,
      );
      expect(lines[at + 2]).toMatch(/, MSE [+-]\d.*; below 0: v2 is closer$/);
    });
  },
);
