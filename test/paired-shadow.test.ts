import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCompareReport } from '../src/compare/report.js';
import { openPostgresStorage } from '../src/db/pg/storage.js';
import type { PredictionRecord } from '../src/db/predictions.js';
import type { Storage } from '../src/db/storage.js';
import { runCompareCli } from './support/compare-cli.js';
import { createTestDatabase, type TestDatabase } from './support/pg-database.js';
import { present, readCompare } from './support/responses.js';
import { createTestGateway, type TestGateway } from './support/test-gateway.js';

let gw: TestGateway;
let database: TestDatabase;
let pgStorage: Storage;
const from = Date.now() - 60_000;

/**
 * 200 requests served by v1 and mirrored to v2; feedback on the first 150: both right on
 * 100, only v1 on 10, only v2 on 25, both wrong on 15. The last 50 have no feedback.
 */
const BOTH = 100;
const SERVED_ONLY = 10;
const SHADOW_ONLY = 25;
const NEITHER = 15;
function seed(): { rows: PredictionRecord[]; feedback: Array<[string, string]> } {
  const rows: PredictionRecord[] = [];
  const feedback: Array<[string, string]> = [];
  const row = (id: string, version: string, label: string, i: number, shadowOf: string | null) => ({
    id,
    ts: from + i,
    model: 'iris',
    version,
    route: shadowOf ? 'shadow' : 'live',
    userHash: null,
    requestId: `r${i}`,
    input: '{"sepal_length":5,"sepal_width":3,"petal_length":1.4,"petal_width":0.2}',
    output: null,
    label,
    score: 0.9,
    latencyUs: 100,
    status: 'ok' as const,
    error: null,
    shadowOf,
  });
  for (let i = 0; i < 200; i++) {
    const truth = 'setosa';
    const servedRight = i < BOTH + SERVED_ONLY;
    const shadowRight =
      i < BOTH || (i >= BOTH + SERVED_ONLY && i < BOTH + SERVED_ONLY + SHADOW_ONLY);
    rows.push(row(`served-${i}`, 'v1', servedRight ? truth : 'versicolor', i, null));
    rows.push(row(`shadow-${i}`, 'v2', shadowRight ? truth : 'virginica', i, `served-${i}`));
    if (i < BOTH + SERVED_ONLY + SHADOW_ONLY + NEITHER) feedback.push([`served-${i}`, truth]);
  }
  return { rows, feedback };
}

async function write(storage: Pick<Storage, 'predictionLog' | 'feedback'>) {
  const { rows, feedback } = seed();
  storage.predictionLog.append(rows);
  await storage.predictionLog.flush();
  for (const [id, label] of feedback) await storage.feedback.record(id, { label }, from + 500);
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
  await write(gw.gate.storage);
  await write(pgStorage);
}, 60_000);
afterAll(async () => {
  await gw?.close();
  await pgStorage?.close();
  await database?.drop();
});

const expected = {
  n: 150,
  servedAccuracy: 110 / 150,
  shadowAccuracy: 125 / 150,
  servedOnly: SERVED_ONLY,
  shadowOnly: SHADOW_ONLY,
  significant: true,
};

describe('paired shadow comparison in /compare', () => {
  it('compares both versions on exactly the mirrored requests with feedback, by McNemar', async () => {
    const report = await readCompare(
      await gw.request(`/compare/iris?since=${from}&until=${from + 1000}`),
    );
    const [pair] = report.shadow;
    expect(pair).toMatchObject({ served: 'v1', shadow: 'v2', pairs: 200 });
    const paired = present(pair?.paired, 'paired figures');
    expect(paired).toMatchObject(expected);
    // A classifier's pairs are judged on labels: no paired errors.
    expect(pair?.pairedError).toBeNull();
    // scipy.stats.binomtest(10, 35, 0.5).pvalue (SciPy 1.17.1).
    expect(paired.pValue).toBeCloseTo(0.016673847800120715, 12);
    // (25 − 10) / 150 = 0.1; its interval is Clopper–Pearson's for θ = 25/35 mapped to
    // (2θ − 1)·35/150: python3 scripts/reference/paired-interval.py 10 25 150 (exact
    // rational arithmetic). It excludes 0, as p < 0.05 does.
    expect(paired.difference.estimate).toBeCloseTo(0.1, 12);
    expect(paired.difference.low).toBeCloseTo(0.017245832541270635, 12);
    expect(paired.difference.high).toBeCloseTo(0.16503445220310567, 12);
  });

  it('gives the same figures from PostgreSQL', async () => {
    const window = { model: 'iris', since: from, until: from + 1000 };
    const fromPg = await loadCompareReport(
      { queries: pgStorage.queries, flushLog: async () => {} },
      window,
      null,
    );
    const fromSqlite = await loadCompareReport(
      { queries: gw.gate.storage.queries, flushLog: () => gw.gate.flushLog() },
      window,
      null,
    );
    expect(fromPg.shadow[0]?.paired).toMatchObject(expected);
    expect(fromPg.shadow).toEqual(fromSqlite.shadow);
  });

  it('npm run compare prints the paired figures under the shadow line', async () => {
    const { stdout } = await runCompareCli(
      'iris',
      gw.dbPath,
      '--since',
      String(from),
      '--until',
      String(from + 1000),
    );
    expect(stdout).toContain(
      '  on the same 150 labelled rows: v1 73.3%, v2 83.3% accurate; v2 − v1 +10.0 points',
    );
    expect(stdout).toContain('McNemar exact p = 0.0167, significant');
  }, 120_000);

  it('has no paired figures before any mirrored request has feedback', async () => {
    const report = await readCompare(
      await gw.request(`/compare/iris?since=${from + 150}&until=${from + 1000}`),
    );
    expect(report.shadow[0]).toMatchObject({ pairs: 50, paired: null });
  });
});
