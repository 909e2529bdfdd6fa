import { copyFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveIrisRows, waitForReplay } from './support/replay.js';
import { readReplay, reportOf } from './support/replay-responses.js';
import { BUNDLED_MODELS, createTestGateway, type TestGateway } from './support/test-gateway.js';

/** Slow enough that the candidate changes under a running replay. */
const MAX_ROWS_PER_S = 40;
let gw: TestGateway;
let from: number;
let until: number;

const get = async (id: string) => readReplay(await gw.control('GET', `/control/replay/${id}`));
const load = (body: Record<string, unknown> = {}) =>
  gw.control('POST', '/control/load', { model: 'iris', version: 'v3', ...body });

/** Starts a replay of v3 over the 400 served rows and waits until it has replayed some. */
async function runningReplayOfV3(): Promise<string> {
  const res = await gw.control('POST', '/control/replay', {
    model: 'iris',
    candidate: 'v3',
    since: from,
    until,
  });
  expect(res.status).toBe(202);
  const { id } = await readReplay(res);
  await expect
    .poll(async () => (await get(id)).progress.rows, { timeout: 30_000 })
    .toBeGreaterThan(0);
  return id;
}

beforeAll(async () => {
  gw = await createTestGateway({
    copyModels: true,
    env: { MODELGATE_REPLAY_MAX_ROWS_PER_S: String(MAX_ROWS_PER_S) },
  });
  cpSync(join(BUNDLED_MODELS, 'iris', 'v2'), join(gw.modelsDir, 'iris', 'v3'), {
    recursive: true,
  });
  ({ from, until } = await serveIrisRows(gw, 400, 7));
}, 60_000);
afterAll(async () => {
  await gw?.close();
});

describe('a replay whose candidate changes under it', () => {
  it('stops failed when the candidate is unloaded, keeping the report of the rows so far', async () => {
    expect((await load()).status).toBe(200);
    const id = await runningReplayOfV3();
    const unloaded = await gw.control('POST', '/control/unload', { model: 'iris', version: 'v3' });
    expect(unloaded.status).toBe(200);
    const job = await waitForReplay(get, id, ['failed', 'done']);
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(
      new RegExp(`^candidate iris/v3 was unloaded after ${job.progress.rows} of 400 rows`),
    );
    expect(job.progress.rows).toBeLessThan(400);
    // What it replayed before the unload is kept, and none of it failed.
    const report = reportOf(job);
    expect(report.rows.read).toBe(job.progress.rows);
    expect(report.rows.failed).toBe(0);
  });

  it('stops failed when the candidate is reloaded from a different file: one report, one model', async () => {
    expect((await load()).status).toBe(200);
    const id = await runningReplayOfV3();
    // v3 becomes v1's graph under the same name: its answers are another model's.
    copyFileSync(
      join(BUNDLED_MODELS, 'iris', 'v1', 'model.onnx'),
      join(gw.modelsDir, 'iris', 'v3', 'model.onnx'),
    );
    expect((await load({ reload: true })).status).toBe(200);
    const job = await waitForReplay(get, id, ['failed', 'done']);
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(
      new RegExp(
        `^candidate iris/v3 was replaced \\(another model\\.onnx\\) after ${job.progress.rows} of 400 rows`,
      ),
    );
    expect(reportOf(job).rows.read).toBe(job.progress.rows);
    expect(reportOf(job).rows.failed).toBe(0);
  });
});
