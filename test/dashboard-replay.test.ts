import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The page's formatting (the same as `npm run replay`), to read the API's numbers as shown.
import { pct } from '../src/compare/number-format.js';
import { launchChromium, newWatchedPage, type TestBrowser } from './support/browser.js';
import { irisRows, labelsFromOnnx } from './support/replay.js';
import { classifierReport, readReplayList } from './support/replay-responses.js';
import { present } from './support/responses.js';
import { CONTROL_TOKEN, createTestGateway, type TestGateway } from './support/test-gateway.js';

describe('dashboard: Replay', () => {
  let gw: TestGateway;
  let browser: TestBrowser;
  let page: Page;
  const pageErrors: string[] = [];
  const rows = irisRows(200, 41);

  beforeAll(async () => {
    gw = await createTestGateway();
    const res = await gw.post('/predict/iris', { instances: rows });
    expect(res.status).toBe(200);
    browser = await launchChromium();
    page = await newWatchedPage(browser, pageErrors);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  it('is read-only until the token is pasted', async () => {
    await page.goto(`${gw.url}/`);
    const button = page.locator('button[data-replay="iris"]');
    await button.waitFor();
    expect(await button.isDisabled()).toBe(true);
  });

  it('runs the chosen version over the last day’s rows and shows what the API reports', async () => {
    await page.locator('#token').fill(CONTROL_TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    const card = page.locator('section[data-model="iris"]');
    const panel = card.locator('[data-field="replay"]');
    // v2 is offered first (v1 is live); pick it explicitly all the same.
    await panel.locator('select[data-replay-candidate="iris"]').selectOption('v2');
    await expect.poll(() => panel.locator('button[data-replay]').isEnabled()).toBe(true);
    await panel.locator('button[data-replay="iris"]').click();
    const agreement = panel.locator('[data-field="replay-agreement"]');
    await agreement.waitFor({ timeout: 60_000 });

    const { replays } = await readReplayList(await gw.control('GET', '/control/replay?model=iris'));
    const job = present(replays[0]);
    expect(job).toMatchObject({ candidate: 'v2', status: 'done' });
    const report = classifierReport(job);
    const [v1, v2] = await Promise.all([labelsFromOnnx('v1', rows), labelsFromOnnx('v2', rows)]);
    const agreed = rows.filter((_, i) => v1[i] === v2[i]).length;
    expect(report.agreement.agreed).toBe(agreed);
    expect(await agreement.textContent()).toBe(
      `v2 agrees with the served version on ${pct(agreed / 200)} (${agreed} of 200)`,
    );
    expect(await panel.locator('[data-field="replay-status"]').textContent()).toBe(
      'done, 200 of 200 rows',
    );
    // Every cell of the confusion matrix as the report counts it.
    const { matrix } = report.agreement;
    for (const [i, served] of matrix.served.entries()) {
      for (const [j, candidate] of matrix.candidate.entries()) {
        const cell = panel.locator(`td[data-served="${served}"][data-candidate="${candidate}"]`);
        expect(await cell.textContent()).toBe(String(matrix.counts[i]?.[j]));
      }
    }
    expect(pageErrors).toEqual([]);
  });
});
