import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCompareCli } from './support/compare-cli.js';
import { parseAs, present, readCompare, readError, schemas } from './support/responses.js';
import { createTestGateway, type TestGateway } from './support/test-gateway.js';

let gw: TestGateway;
let seededFrom: number;

/**
 * A log with known figures, written straight into the gateway's SQLite file:
 * v1 1,000 rows (20 errors), v2 1,000 rows; feedback on 500 of each, 400 and 450
 * correct; latencies 100–1,099 µs (v1) and 200–2,198 µs (v2); 100 shadow rows of
 * v2 mirroring v1, 90 with the same label.
 */
function seed(dbPath: string, from: number) {
  const db = new Database(dbPath);
  const insert = db.prepare(
    `INSERT INTO predictions (id, ts, model, version, route, user_hash, request_id, input, output,
     label, score, latency_us, status, error, shadow_of)
     VALUES (?, ?, 'iris', ?, ?, NULL, 'seed', '{}', '{}', ?, 0.9, ?, ?, ?, ?)`,
  );
  const feedback = db.prepare('INSERT INTO feedback (prediction_id, label, ts) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (const version of ['v1', 'v2']) {
      for (let i = 0; i < 1000; i++) {
        const id = `${version}-${String(i).padStart(4, '0')}`;
        const failed = version === 'v1' && i >= 980;
        const label = failed ? null : i % 5 < 3 ? 'setosa' : 'versicolor';
        const latency = version === 'v1' ? 100 + i : 200 + 2 * i;
        insert.run(
          id,
          from + (i % 100),
          version,
          'split',
          label,
          latency,
          failed ? 'error' : 'ok',
          failed ? 'boom' : null,
          null,
        );
        if (i < 500) {
          const correct = version === 'v1' ? i < 400 : i < 450;
          feedback.run(id, correct ? label : 'virginica', from + (i % 100));
        }
      }
    }
    for (let i = 0; i < 100; i++) {
      const servedLabel = i % 5 < 3 ? 'setosa' : 'versicolor';
      const label = i < 90 ? servedLabel : 'virginica';
      insert.run(
        `shadow-${i}`,
        from + i,
        'v2',
        'shadow',
        label,
        300,
        'ok',
        null,
        `v1-${String(i).padStart(4, '0')}`,
      );
    }
  })();
  db.close();
}

beforeAll(async () => {
  gw = await createTestGateway();
  expect(
    (await gw.control('PUT', '/control/split', { model: 'iris', weights: { v1: 50, v2: 50 } }))
      .status,
  ).toBe(200);
  seededFrom = Date.now() + 1;
  seed(gw.dbPath, seededFrom);
  // Every seeded row (ts from seededFrom to seededFrom + 99) is now in the past.
  await vi.waitFor(
    () => {
      if (Date.now() <= seededFrom + 99) throw new Error('seeded rows still in the future');
    },
    { interval: 10 },
  );
});
afterAll(async () => {
  await gw.close();
});

describe('GET /compare/:model', () => {
  it('reports per-version traffic, errors, latency, labels and accuracy as the log says', async () => {
    const res = await gw.request('/compare/iris');
    expect(res.status).toBe(200);
    const report = await readCompare(res);
    const v1 = present(report.versions[0], 'v1');
    const v2 = present(report.versions[1], 'v2');
    expect(v1).toMatchObject({
      version: 'v1',
      requests: 1000,
      share: 0.5,
      errors: 20,
      errorRate: 0.02,
    });
    expect(v2).toMatchObject({ version: 'v2', requests: 1000, share: 0.5, errors: 0 });
    // i % 5 < 3 → setosa: 600 of 1000; v1's last 20 rows (all versicolor or setosa) failed.
    const sql = await gw.query<{ version: string; label: string; n: number }>(
      "SELECT version, label, count(*) AS n FROM predictions WHERE model = 'iris' AND status = 'ok' AND shadow_of IS NULL GROUP BY version, label",
    );
    for (const row of sql)
      expect(report.versions.find((v) => v.version === row.version)?.labels[row.label]).toBe(row.n);
    // Nearest-rank p50 of 100..1099 µs is 599 µs; p99 is 1089 µs (errors have no latency figure).
    expect(v1.latencyMs.p50).toBeCloseTo(0.589, 1);
    expect(Math.abs(present(v1.latencyMs.p50) - 0.589) / 0.589).toBeLessThan(0.011);
    expect(Math.abs(present(v2.latencyMs.p99) - 2.178) / 2.178).toBeLessThan(0.011);
    expect(v1.accuracy).toMatchObject({ n: 500, correct: 400, estimate: 0.8 });
    expect(v2.accuracy).toMatchObject({ n: 500, correct: 450, estimate: 0.9 });
    expect(v1.accuracy?.low).toBeLessThan(0.8);
    expect(v1.accuracy?.high).toBeGreaterThan(0.8);
  });

  it('tests accuracy between versions: 80 % vs 90 % on 500 each is significant', async () => {
    const report = await readCompare(await gw.request('/compare/iris'));
    // pooled p = 0.85, SE = sqrt(0.85 · 0.15 · 2/500) = 0.022583, z = 0.1 / SE = 4.4281;
    // Newcombe's interval from SciPy's Wilson bounds: 0.0560012802 to 0.1439819674.
    expect(report.accuracy).toHaveLength(1);
    const comparison = present(report.accuracy[0]);
    expect(comparison).toMatchObject({ baseline: 'v1', candidate: 'v2' });
    expect(comparison.difference).toBeCloseTo(0.1, 10);
    expect(comparison.fixedHorizon.significant).toBe(true);
    expect(comparison.fixedHorizon.z).toBeCloseTo(4.4281, 3);
    expect(comparison.fixedHorizon.pValue).toBeLessThan(1e-4);
    expect(comparison.fixedHorizon.low).toBeCloseTo(0.0560012802, 8);
    expect(comparison.fixedHorizon.high).toBeCloseTo(0.1439819674, 8);
  });

  it('runs the sample-ratio test against the configured split and the shadow agreement', async () => {
    const report = await readCompare(await gw.request('/compare/iris'));
    expect(report.sampleRatio?.expected).toEqual({ v1: 50, v2: 50 });
    expect(report.sampleRatio?.observed).toEqual({ v1: 1000, v2: 1000 });
    expect(report.sampleRatio?.test).toMatchObject({
      chiSquare: 0,
      degreesOfFreedom: 1,
      mismatch: false,
    });
    // Dirichlet-multinomial Bayes factor of 1000 : 1000 against 50 : 50 (SciPy): e^−1.5246.
    expect(report.sampleRatio?.sequential).toMatchObject({ mismatch: false, pValue: 1 });
    expect(report.sampleRatio?.sequential?.logBayesFactor).toBeCloseTo(-1.5246421296, 8);
    expect(report.shadow).toEqual([
      expect.objectContaining({ served: 'v1', shadow: 'v2', pairs: 100 }),
    ]);
    expect(report.shadow[0]?.agreement?.estimate).toBeCloseTo(0.9, 10);
  });

  it('flags a sample-ratio mismatch when the traffic does not follow the split', async () => {
    await gw.control('PUT', '/control/split', { model: 'iris', weights: { v1: 90, v2: 10 } });
    const afterChange = await readCompare(await gw.request('/compare/iris'));
    expect(afterChange.sampleRatio?.test).toBeNull();
    expect(afterChange.sampleRatioNote).toContain('since it was set');
    // 300 : 200 under a 90 : 10 split is broken: expected 450 : 50, chi² = 50 + 450 = 500.
    const from = Date.now() + 1;
    const db = new Database(gw.dbPath);
    const insert = db.prepare(
      `INSERT INTO predictions (id, ts, model, version, route, request_id, input, latency_us, status)
       VALUES (?, ?, 'iris', ?, 'split', 'srm', '{}', 100, 'ok')`,
    );
    for (let i = 0; i < 500; i++) insert.run(`srm-${i}`, from, i < 300 ? 'v1' : 'v2');
    db.close();
    await vi.waitFor(
      () => {
        if (Date.now() <= from) throw new Error('inserted rows still in the future');
      },
      { interval: 5 },
    );
    const report = await readCompare(await gw.request('/compare/iris'));
    expect(report.sampleRatio?.observed).toEqual({ v1: 300, v2: 200 });
    expect(report.sampleRatio?.test?.chiSquare).toBeCloseTo(500, 8);
    expect(report.sampleRatio?.test?.mismatch).toBe(true);
    // ln BF = 134.798 (SciPy): far past ln(1 / 0.001) = 6.9.
    expect(report.sampleRatio?.sequential?.logBayesFactor).toBeCloseTo(134.7979856523, 6);
    expect(report.sampleRatio?.sequential).toMatchObject({ mismatch: true, alpha: 0.001 });
  });

  it('filters by window and versions, and rejects a bad window', async () => {
    const windowed = await readCompare(
      await gw.request(`/compare/iris?since=${seededFrom}&until=${seededFrom + 50}`),
    );
    expect(windowed.versions.map((v) => v.requests)).toEqual([500, 500]);
    const onlyV2 = await readCompare(
      await gw.request(`/compare/iris?versions=v2&until=${seededFrom + 100}`),
    );
    expect(onlyV2.versions.map((v) => v.version)).toEqual(['v2']);
    const bad = await gw.request('/compare/iris?since=yesterday-ish');
    expect(bad.status).toBe(400);
    expect((await readError(bad)).error.message).toContain('since');
    // Date.parse reads "1 2" as 2001-01-02: /compare names the forms it takes instead.
    const guessed = await gw.request('/compare/iris?until=1%202');
    expect(guessed.status).toBe(400);
    expect((await readError(guessed)).error.message).toMatch(/^until: "1 2" is not a time/);
    expect((await gw.request('/compare/tulips')).status).toBe(404);
  });
});

describe('npm run compare', () => {
  it('prints a table with the figures and says in words what is significant', async () => {
    await gw.gate.flushLog();
    const { stdout } = await runCompareCli('iris', gw.dbPath, '--until', String(seededFrom + 100));
    expect(stdout).toMatch(/^v1\s+1000\s+50\.0%\s+2\.00%/m);
    expect(stdout).toMatch(/^v2\s+1000\s+50\.0%\s+0\.00%/m);
    expect(stdout).toContain('80.0% (');
    expect(stdout).toContain('accuracy: v2 is 10.0 points higher than v1');
    expect(stdout).toContain('significant (p = ');
    expect(stdout).toContain('shadow: v2 agrees with v1 on 90.0% of 100 mirrored rows');
  }, 60_000);

  it('sizes a difference with an arm at 100 %: 10/10 against 128/191 (Newcombe, not Wald)', async () => {
    // A model the gateway does not host, written straight into the log: v1 128 of 191
    // right, v2 10 of 10. The Wald interval printed "+26.3 to +39.7 points" here.
    const db = new Database(gw.dbPath);
    const insert = db.prepare(
      `INSERT INTO predictions (id, ts, model, version, route, request_id, input, label, latency_us, status)
       VALUES (?, ?, 'tiny', ?, 'split', 'tiny', '{}', 'yes', 100, 'ok')`,
    );
    const feedback = db.prepare('INSERT INTO feedback (prediction_id, label, ts) VALUES (?, ?, ?)');
    const at = Date.now() - 1000;
    db.transaction(() => {
      for (let i = 0; i < 191; i++) {
        insert.run(`tiny-v1-${i}`, at, 'v1');
        feedback.run(`tiny-v1-${i}`, i < 128 ? 'yes' : 'no', at);
      }
      for (let i = 0; i < 10; i++) {
        insert.run(`tiny-v2-${i}`, at, 'v2');
        feedback.run(`tiny-v2-${i}`, 'yes', at);
      }
    })();
    db.close();
    const { stdout } = await runCompareCli('tiny', gw.dbPath);
    // 1 − 128/191 = 33.0 points; Newcombe 1998 method 10 (SciPy Wilson bounds): +4.5 to +39.9.
    expect(stdout).toContain(
      'accuracy: v2 is 33.0 points higher than v1 (fixed horizon: 95% CI +4.5 to +39.9 points)',
    );
  }, 60_000);

  it('prints the same report as JSON with --json', async () => {
    const { stdout } = await runCompareCli(
      'iris',
      gw.dbPath,
      '--json',
      '--until',
      String(Date.now() + 60_000),
    );
    const fromCli = parseAs(schemas.compareReport, JSON.parse(stdout));
    const fromApi = await readCompare(
      await gw.request(`/compare/iris?until=${fromCli.window.until}`),
    );
    expect(fromCli.versions).toEqual(fromApi.versions);
    expect(fromCli.accuracy).toEqual(fromApi.accuracy);
  }, 60_000);
});
