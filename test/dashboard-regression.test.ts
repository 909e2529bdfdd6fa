import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The page's formatting (the same as `npm run compare`), to read /compare's numbers as shown.
import { ms, significant as num, pct, psi } from '../src/compare/number-format.js';
import { launchChromium, newWatchedPage, type TestBrowser } from './support/browser.js';
import { treeRegressor, treeRegressorValue, writeVersion } from './support/converter-graphs.js';
import { seededRegressorRows } from './support/drift-log.js';
import { present, readCompare, readValuePrediction } from './support/responses.js';
import { createTestGateway, type TestGateway } from './support/test-gateway.js';

/** Two regressors exported to ONNX (TreeEnsembleRegressor, float [N, 1]), no model.json. */
const LEAVES = { v1: [100, 200, 300], v2: [110, 190, 330] } as const;

describe('dashboard for a regressor in a real browser', () => {
  let dir: string;
  let gw: TestGateway;
  let server: ReturnType<typeof serve>;
  let url: string;
  let browser: TestBrowser;
  let page: Page;
  let card: Locator;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'modelgate-dashboard-regression-'));
    const models = join(dir, 'models');
    writeVersion(models, 'price', 'v1', treeRegressor(LEAVES.v1));
    writeVersion(models, 'price', 'v2', treeRegressor(LEAVES.v2));
    gw = await createTestGateway({ dir, env: { MODELGATE_MODELS_DIR: models } });
    server = serve({ fetch: gw.gate.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((r) => server.once('listening', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const split = await gw.control('PUT', '/control/split', {
      model: 'price',
      weights: { v1: 60, v2: 40 },
    });
    expect(split.status).toBe(200);
    // 120 users; the true value of each row is what the user's system learns later.
    for (let i = 0; i < 120; i++) {
      const row = [i % 3 === 0 ? 1 : 20, i % 5 < 2 ? 1 : 9];
      const res = await gw.post('/predict/price', { inputs: [row] }, { 'x-user-id': `u${i}` });
      expect(res.status).toBe(200);
      const answer = await readValuePrediction(res);
      expect(answer.outputs[0]?.value).toBe(
        treeRegressorValue(row, LEAVES[answer.version as keyof typeof LEAVES]),
      );
      const truth = treeRegressorValue(row, LEAVES.v1) + ((i * 37) % 23) - 11;
      const feedback = await gw.post('/feedback', {
        predictionId: answer.predictionId,
        value: truth,
      });
      expect(feedback.status).toBe(200);
    }

    browser = await launchChromium();
    page = await newWatchedPage(browser, pageErrors);
    card = page.locator('section[data-model="price"]');
  });

  afterAll(async () => {
    await browser?.close();
    if (server) await new Promise((r) => server.close(r));
    await gw?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows per version the predicted values and MAE/RMSE with always-valid intervals, as /compare gives them', async () => {
    await page.goto(`${url}/`);
    await card.locator('tr[data-version="v2"] [data-field="mae"]').waitFor();
    const report = await readCompare(await fetch(`${url}/compare/price?since=split`));
    expect(report.versions.map((v) => v.version)).toEqual(['v1', 'v2']);
    for (const v of report.versions) {
      expect(v.task).toBe('regression');
      const row = card.locator(`tr[data-version="${v.version}"]`);
      const cell = (name: string) => row.locator(`[data-field="${name}"]`).textContent();
      expect(await cell('requests')).toBe(String(v.requests));
      expect(await cell('share')).toBe(pct(v.share));
      expect(await cell('p50')).toBe(ms(v.latencyMs.p50));
      const predicted = present(v.predicted, `${v.version} predicted`);
      const error = present(v.error, `${v.version} error`);
      expect(await cell('predicted')).toBe(num(predicted.mean));
      expect(await cell('predicted-range')).toBe(
        `${num(predicted.p5)} / ${num(predicted.p50)} / ${num(predicted.p95)}`,
      );
      const mae = present(error.sequential.mae, 'MAE sequence');
      const rmse = present(error.sequential.rmse, 'RMSE sequence');
      expect(await cell('mae')).toBe(`${num(error.mae)} (${num(mae.low)}–${num(mae.high)})`);
      expect(await cell('rmse')).toBe(`${num(error.rmse)} (${num(rmse.low)}–${num(rmse.high)})`);
      expect(await cell('values')).toBe(String(error.n));
      // Classification columns are omitted, not shown as zeros or dashes.
      expect(await row.locator('[data-field="accuracy"], [data-field="feedback"]').count()).toBe(0);
    }
    const heads = await card.locator('table.versions thead th').allTextContents();
    expect(heads).toContain('MAE (95% always valid)');
    expect(heads).toContain('RMSE (95% always valid)');
    expect(heads).toContain('predicted p5 / p50 / p95');
    expect(heads.join(' ')).not.toMatch(/accuracy|feedback/);

    const findings = (await card.locator('[data-field="findings"]').textContent()) ?? '';
    expect(findings).toContain('sample ratio: observed');
    expect(findings).not.toMatch(/accuracy|value:|shadow/);
    // No label mix, and no fixed-horizon figure anywhere on the card.
    const text = (await card.textContent()) ?? '';
    expect(text).not.toMatch(/label|accuracy|fixed horizon|CI\b/);
    expect(text).not.toContain(num(present(report.versions[0]?.error?.maeInterval).low));
    expect(pageErrors).toEqual([]);
  });

  it("checks drift on demand and says when a version's predicted value moved", async () => {
    // Last week's predictions of both versions were about 300 ± 50, today's 100 to 330.
    const weekAgo = Date.now() - 3 * 86_400_000;
    for (const version of ['v1', 'v2']) {
      gw.gate.storage.predictionLog.append(
        seededRegressorRows({ seed: 5, rows: 500, from: weekAgo, version, idPrefix: version }),
      );
    }
    await gw.gate.flushLog();
    await card.locator('button[data-drift="price"]').click();
    const drift = card.locator('[data-field="drift"]');
    await drift.locator('li[data-drift-version]').first().waitFor({ timeout: 30_000 });
    const expected = present(
      (await readCompare(await fetch(`${url}/compare/price?since=1d&baseline=8d..1d`))).drift,
      'drift',
    );
    expect(expected.versions.map((v) => v.version)).toEqual(['v1', 'v2']);
    for (const version of expected.versions) {
      expect(version.prediction).toMatchObject({ kind: 'value', flagged: true });
      const shown = await drift
        .locator(`li[data-drift-version="${version.version}"]`)
        .textContent();
      const moved = present(version.prediction, 'prediction').psi;
      expect(shown).toContain(`predicted value moved (PSI ${psi(moved)})`);
      expect(shown).not.toContain('label mix');
    }
    expect(pageErrors).toEqual([]);
  });

  it("shows a regressor's shadow by its paired errors, not by label agreement, which does not apply", async () => {
    const shadow = await gw.control('PUT', '/control/shadow', {
      model: 'price',
      version: 'v2',
      percent: 100,
    });
    expect(shadow.status).toBe(200);
    let mirrored = 0;
    for (let i = 0; i < 20; i++) {
      const res = await gw.post('/predict/price', { inputs: [[20, 9]] }, { 'x-user-id': `s${i}` });
      expect(res.status).toBe(200);
      const { predictionId, version } = await readValuePrediction(res);
      // The split sends some users to v2 itself: only v1's requests are mirrored to it.
      if (version === 'v1') mirrored++;
      const value = 320 + (i % 7);
      expect((await gw.post('/feedback', { predictionId, value })).status).toBe(200);
    }
    // /compare has mirrored pairs for it, so the page has something to leave out.
    await expect
      .poll(
        async () => {
          await gw.gate.flushLog();
          const report = await readCompare(await fetch(`${url}/compare/price?since=split`));
          return report.shadow.reduce((sum, pair) => sum + pair.pairs, 0);
        },
        { timeout: 20_000, interval: 100 },
      )
      .toBeGreaterThan(0);
    await page.reload();
    await expect
      .poll(() => card.locator('[data-field="shadow"]').textContent(), { timeout: 20_000 })
      .toBe('v2 at 100%');
    const findings = card.locator('[data-field="findings"]');
    await findings.waitFor();
    const text = (await findings.textContent()) ?? '';
    expect(text).toContain('sample ratio:');
    expect(text).not.toContain('agrees with');
    // v1 says 300 and v2 330 for every row, against 320 to 326: the always-valid figures.
    const report = await readCompare(await fetch(`${url}/compare/price?since=split`));
    const paired = present(report.shadow[0]?.pairedError, 'pairedError');
    const mae = present(paired.sequential.maeDifference);
    const signed = (x: number) => `${x >= 0 ? '+' : ''}${num(x)}`;
    expect(paired.n).toBe(mirrored);
    expect(text).toContain(
      `shadow: v2 − v1 on the same ${mirrored} rows with feedback values: MAE ${signed(paired.maeDifference)} ` +
        `(always valid: 95% ${signed(mae.low)} to ${signed(mae.high)}), MSE ${signed(paired.mseDifference)}`,
    );
    expect(pageErrors).toEqual([]);
  });
});
