import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDrift } from '../src/compare/load-drift.js';
import { psi, pValue } from '../src/compare/number-format.js';
import { openPostgresStorage } from '../src/db/pg/storage.js';
import type { PredictionRecord } from '../src/db/predictions.js';
import { readServedInputs, readServedRows } from '../src/db/served-rows.js';
import type { Storage } from '../src/db/storage.js';
import { runCompareCli } from './support/compare-cli.js';
import { FEATURES, seededRegressorRows, seededRows } from './support/drift-log.js';
import { createTestDatabase, type TestDatabase } from './support/pg-database.js';
import { parseAs, present, readCompare, readError, schemas } from './support/responses.js';
import { createTestGateway, type TestGateway } from './support/test-gateway.js';

const ROWS = 5_000;
const HOUR = 3_600_000;
let gw: TestGateway;
let pgStorage: Storage;
let database: TestDatabase;
const baselineFrom = Date.now() - 3 * HOUR;
const windowFrom = Date.now() - HOUR;
const baselineRows = seededRows({
  seed: 7,
  rows: ROWS,
  from: baselineFrom,
  version: 'v1',
  idPrefix: 'base',
});
const windowRows = seededRows({
  seed: 8,
  rows: ROWS,
  from: windowFrom,
  version: 'v1',
  idPrefix: 'now',
  shift: { feature: 'sepal_width', sd: 0.5 },
});
/** A regressor's log: its predicted values move by half a standard deviation, its inputs do not. */
const regressorBaseline = seededRegressorRows({
  seed: 17,
  rows: ROWS,
  from: baselineFrom,
  version: 'v1',
  idPrefix: 'price-base',
});
const regressorWindow = seededRegressorRows({
  seed: 18,
  rows: ROWS,
  from: windowFrom,
  version: 'v1',
  idPrefix: 'price-now',
  shiftSd: 0.5,
});
/** Rows sharing milliseconds, seven to a ms: paging must neither split nor repeat them. */
const crowded = seededRows({ seed: 9, rows: 700, from: 0, version: 'v2', idPrefix: 'crowd' }).map(
  (row, i) => ({ ...row, ts: windowFrom - HOUR + Math.floor(i / 7) }),
);

async function write(storage: Pick<Storage, 'predictionLog'>, rows: PredictionRecord[]) {
  for (let i = 0; i < rows.length; i += 1000) {
    storage.predictionLog.append(rows.slice(i, i + 1000));
    await storage.predictionLog.flush();
  }
}

beforeAll(async () => {
  gw = await createTestGateway();
  database = await createTestDatabase();
  pgStorage = await openPostgresStorage({
    url: database.url,
    refreshMs: 60_000,
    lead: false,
    log: { flushRows: 1000, flushMs: 10, maxQueue: 10_000 },
  });
  for (const storage of [gw.gate.storage, pgStorage]) {
    await write(storage, [
      ...baselineRows,
      ...windowRows,
      ...crowded,
      ...regressorBaseline,
      ...regressorWindow,
    ]);
  }
}, 60_000);
afterAll(async () => {
  await gw?.close();
  await pgStorage?.close();
  await database?.drop();
});

/** Exact two-sample KS statistic from the raw values, sorted here (the gateway never sorts them). */
function exactKs(a: number[], b: number[]): number {
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i] as number, y[j] as number);
    while (i < x.length && x[i] === v) i++;
    while (j < y.length && y[j] === v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  return d;
}

/** PSI over exact deciles of the baseline (nearest rank), computed from the raw values. */
function exactPsi(base: number[], now: number[]): number {
  const sorted = [...base].sort((p, q) => p - q);
  const edges = Array.from(
    { length: 9 },
    (_, k) => sorted[Math.ceil(((k + 1) * sorted.length) / 10) - 1] as number,
  );
  const shares = (values: number[]) => {
    const counts = new Array(10).fill(0);
    for (const v of values) counts[edges.filter((e) => v > e).length]++;
    return counts.map((n) => n / values.length);
  };
  const b = shares(base);
  const c = shares(now);
  return b.reduce((sum, s, k) => sum + ((c[k] as number) - s) * Math.log((c[k] as number) / s), 0);
}

const valuesOf = (rows: PredictionRecord[], feature: string) =>
  rows.map((row) => (JSON.parse(row.input) as Record<string, number>)[feature] as number);

describe('GET /compare/:model?baseline=…', () => {
  const query = () =>
    `/compare/iris?since=${windowFrom}&until=${windowFrom + ROWS}&baseline=${baselineFrom}..${baselineFrom + ROWS}`;

  it('flags only the feature that moved by half a standard deviation, with the exact figures', async () => {
    const res = await gw.request(query());
    expect(res.status).toBe(200);
    const drift = present((await readCompare(res)).drift, 'drift');
    expect(drift.baseline).toEqual({
      kind: 'window',
      since: baselineFrom,
      until: baselineFrom + ROWS,
      rows: ROWS,
    });
    expect(drift.psiThreshold).toBe(0.2);
    const v1 = present(drift.versions[0], 'v1');
    expect(drift.versions).toHaveLength(1);
    expect(v1).toMatchObject({ version: 'v1', rows: ROWS, flagged: ['sepal_width'] });
    for (const feature of FEATURES) {
      const figures = present(
        v1.features.find((f) => f.feature === feature),
        feature,
      );
      const base = valuesOf(baselineRows, feature);
      const now = valuesOf(windowRows, feature);
      // Bins are 0.1 % wide: the figures from bins are the exact ones within that.
      expect(Math.abs(figures.ks.statistic - exactKs(base, now))).toBeLessThan(0.002);
      expect(Math.abs(figures.psi - exactPsi(base, now))).toBeLessThan(0.005);
      expect(figures.flagged).toBe(feature === 'sepal_width');
      expect(figures).toMatchObject({ rows: ROWS, baselineRows: ROWS });
    }
    // The labels follow petal length, which did not move: the label mix holds.
    const labelMix = v1.prediction;
    if (labelMix?.kind !== 'label')
      throw new Error(`expected the label mix, got ${labelMix?.kind}`);
    expect(labelMix.flagged).toBe(false);
    expect(labelMix.chiSquare?.degreesOfFreedom).toBe(2);
  });

  it('flags nothing when the window is the baseline itself, and honours psiThreshold', async () => {
    const same = await readCompare(
      await gw.request(
        `/compare/iris?since=${baselineFrom}&until=${baselineFrom + ROWS}&baseline=${baselineFrom}..${baselineFrom + ROWS}`,
      ),
    );
    const unmoved = present(same.drift?.versions[0], 'v1 drift');
    expect(unmoved.flagged).toEqual([]);
    for (const f of unmoved.features) expect(f.psi).toBeCloseTo(0, 12);
    const strict = await readCompare(await gw.request(`${query()}&psiThreshold=0.001`));
    expect(strict.drift?.psiThreshold).toBe(0.001);
    expect(strict.drift?.versions[0]?.flagged.length).toBeGreaterThan(1);
  });

  it('answers 400 naming the parameter for a baseline or threshold that is not one', async () => {
    for (const [param, message] of [
      ['baseline=yesterday', /baseline: "yesterday" is neither "training" nor a window/],
      ['baseline=1d..7d', /baseline: "1d..7d" is empty or ends before it starts/],
      ['baseline=7d..soon', /baseline: "soon" is not a time/],
      ['baseline=7d..1d&psiThreshold=-1', /psiThreshold: "-1" is not a positive number/],
    ] as const) {
      const res = await gw.request(`/compare/iris?${param}`);
      expect(res.status).toBe(400);
      expect((await readError(res)).error.message).toMatch(message);
    }
  });

  it('has no drift unless a baseline is asked for (it costs a pass over the rows)', async () => {
    const report = await readCompare(await gw.request('/compare/iris'));
    expect(report.drift).toBeUndefined();
  });
});

describe("a regressor's predicted value (SQLite and PostgreSQL)", () => {
  const request = {
    model: 'price',
    since: windowFrom,
    until: windowFrom + ROWS,
    baseline: { kind: 'window' as const, since: baselineFrom, until: baselineFrom + ROWS },
  };
  const scores = (rows: PredictionRecord[]) => rows.map((row) => row.score as number);

  it('gives PSI and KS of the predicted values against the baseline, from the logged scores', async () => {
    const drift = await loadDrift(
      { queries: gw.gate.storage.queries, flushLog: () => gw.gate.flushLog() },
      request,
    );
    const [v1] = drift.versions;
    const prediction = v1?.prediction;
    if (prediction?.kind !== 'value')
      throw new Error(`expected a value drift, got ${prediction?.kind}`);
    expect(prediction).toMatchObject({ rows: ROWS, baselineRows: ROWS, flagged: true });
    const base = scores(regressorBaseline);
    const now = scores(regressorWindow);
    expect(Math.abs(prediction.ks.statistic - exactKs(base, now))).toBeLessThan(0.002);
    expect(Math.abs(prediction.psi - exactPsi(base, now))).toBeLessThan(0.005);
    // Its inputs did not move.
    expect(v1?.flagged).toEqual([]);
    expect(v1?.note).toBeNull();
  });

  it('PostgreSQL gives the same report, number for number', async () => {
    const fromPg = await loadDrift(
      { queries: pgStorage.queries, flushLog: async () => {} },
      request,
    );
    const fromSqlite = await loadDrift(
      { queries: gw.gate.storage.queries, flushLog: () => gw.gate.flushLog() },
      request,
    );
    expect(fromPg.versions[0]?.prediction?.kind).toBe('value');
    expect(fromPg).toEqual(fromSqlite);
  });

  it('npm run compare prints the predicted value line', async () => {
    const { stdout } = await runCompareCli(
      'price',
      gw.dbPath,
      '--since',
      String(windowFrom),
      '--until',
      String(windowFrom + ROWS),
      '--baseline',
      `${baselineFrom}..${baselineFrom + ROWS}`,
    );
    expect(stdout).toMatch(
      /^predicted value: PSI 0\.\d{3}, KS D = 0\.\d{3}, p = \S+ \(5000 values, baseline 5000\) {2}DRIFT$/m,
    );
    // The figures printed are /compare's (checked against the raw values above).
    const drift = await loadDrift(
      { queries: gw.gate.storage.queries, flushLog: () => gw.gate.flushLog() },
      request,
    );
    const prediction = drift.versions[0]?.prediction;
    if (prediction?.kind !== 'value')
      throw new Error(`expected a value drift, got ${prediction?.kind}`);
    expect(stdout).toContain(
      `predicted value: PSI ${psi(prediction.psi)}, KS D = ${prediction.ks.statistic.toFixed(3)}, p = ${pValue(prediction.ks.pValue)} (`,
    );
    expect(stdout).toMatch(/^v1 \(5000 rows\): nothing flagged$/m);
    expect(stdout).not.toContain('label mix');
  }, 120_000);
});

describe('npm run compare -- --baseline', () => {
  const cli = (...extra: string[]) =>
    runCompareCli(
      'iris',
      gw.dbPath,
      '--since',
      String(windowFrom),
      '--until',
      String(windowFrom + ROWS),
      '--baseline',
      `${baselineFrom}..${baselineFrom + ROWS}`,
      ...extra,
    );

  it('prints each feature with its PSI and KS test and names the flagged one; --json equals GET /compare', async () => {
    const { stdout } = await cli();
    expect(stdout).toContain('v1 (5000 rows): FLAGGED: sepal_width');
    expect(stdout).toMatch(/^sepal_width\s+0\.\d{3}\s+0\.\d{3}\s+\S+\s+5000\s+5000\s+DRIFT$/m);
    expect(stdout).toMatch(/^petal_length\s+0\.0\d\d\s/m);
    const { stdout: asJson } = await cli('--json');
    const http = await readCompare(
      await gw.request(
        `/compare/iris?since=${windowFrom}&until=${windowFrom + ROWS}&baseline=${baselineFrom}..${baselineFrom + ROWS}`,
      ),
    );
    expect(parseAs(schemas.compareReport, JSON.parse(asJson)).drift).toEqual(http.drift);
  }, 120_000);

  it('refuses a baseline it cannot read, naming it', async () => {
    await expect(cli('--baseline', 'training')).rejects.toMatchObject({
      stderr: expect.stringContaining('--baseline training needs the gateway'),
    });
  }, 120_000);
});

describe('PostgreSQL gives the same drift', () => {
  it('reads every served row once, milliseconds shared by many rows included', async () => {
    const range = { model: 'iris', since: 0, until: Date.now() };
    for (const storage of [gw.gate.storage, pgStorage]) {
      const ids: string[] = [];
      for await (const page of readServedRows(storage.queries, range, 500))
        ids.push(...page.map((r) => r.id));
      expect(ids).toHaveLength(2 * ROWS + crowded.length);
      expect(new Set(ids).size).toBe(ids.length);
      let inputs = 0;
      for await (const page of readServedInputs(storage.queries, range, 500)) inputs += page.length;
      expect(inputs).toBe(ids.length);
      // Pages of 5 with 7 rows in each ms: every page is one ms, read whole on its own.
      const crowdedIds: string[] = [];
      const crowdedRange = {
        model: 'iris',
        since: windowFrom - HOUR,
        until: windowFrom - HOUR + 100,
      };
      for await (const page of readServedRows(storage.queries, crowdedRange, 5)) {
        expect(page).toHaveLength(7);
        crowdedIds.push(...page.map((r) => r.id));
      }
      expect(crowdedIds.sort()).toEqual(crowded.map((r) => r.id).sort());
    }
  }, 60_000);

  it('computes what SQLite computes, number for number', async () => {
    const request = {
      model: 'iris',
      since: windowFrom,
      until: windowFrom + ROWS,
      baseline: { kind: 'window' as const, since: baselineFrom, until: baselineFrom + ROWS },
    };
    const fromPg = await loadDrift(
      { queries: pgStorage.queries, flushLog: async () => {} },
      request,
    );
    const fromSqlite = await loadDrift(
      { queries: gw.gate.storage.queries, flushLog: () => gw.gate.flushLog() },
      request,
    );
    expect(fromPg.versions[0]?.flagged).toEqual(['sepal_width']);
    expect(fromPg).toEqual(fromSqlite);
  });
});
