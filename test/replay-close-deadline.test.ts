/**
 * Shutdown closes the replay service before it drains the prediction log: a replay whose
 * candidate never answers must not hold that drain. replays.close(deadline) returns by the
 * deadline, and the rows queued meanwhile are still written (or spilled), never lost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { PredictionRecord } from '../src/db/predictions.js';
import { openSqliteStorage } from '../src/db/sqlite/storage.js';
import { createModelHost } from '../src/models/model-host.js';
import type { HostedVersion } from '../src/models/onnx-host.js';
import { createReplayService } from '../src/replay/service.js';
import { irisRows } from './support/replay.js';
import { BUNDLED_MODELS } from './support/test-gateway.js';

const dir = mkdtempSync(join(tmpdir(), 'modelgate-replay-deadline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const served = (i: number, ts: number, input: Record<string, number>): PredictionRecord => ({
  id: `p-${i}`,
  ts,
  model: 'iris',
  version: 'v1',
  route: 'split',
  userHash: null,
  requestId: `r-${i}`,
  input: JSON.stringify(input),
  output: null,
  label: 'setosa',
  score: 0.9,
  latencyUs: 100,
  status: 'ok',
  error: null,
  shadowOf: null,
});

describe('closing the replay service with a job whose candidate never answers', () => {
  it('returns by the deadline, so the log still writes every row queued meanwhile', async () => {
    const path = join(dir, 'log.db');
    // Rows are committed only when asked (flush) or at close.
    const storage = openSqliteStorage(path, {
      flushRows: 1_000_000,
      flushMs: 3_600_000,
      maxQueue: 1_000_000,
    });
    const host = await createModelHost(BUNDLED_MODELS, {
      batch: { windowUs: 0, maxRows: 64 },
      inferenceWorker: 'off',
    });
    const v2 = host.require('iris', 'v2');
    let runs = 0;
    // The real v2, except that its ONNX call never returns (a hung runtime, a lost worker).
    const stuck: HostedVersion = {
      ...v2,
      runDirect: () => {
        runs += 1;
        return new Promise(() => {});
      },
    };
    const replays = createReplayService({
      replays: storage.replays,
      rows: storage.queries,
      host: {
        get: (model, version) => (version === 'v2' ? stuck : host.get(model, version)),
        require: (model, version) => (version === 'v2' ? stuck : host.require(model, version)),
      },
      liveVersion: () => 'v1',
      flushLog: () => storage.predictionLog.flush(),
      maxRowsPerS: 10_000,
      onError: () => {},
    });
    try {
      const from = Date.now() - 60_000;
      storage.predictionLog.append(irisRows(50, 1).map((row, i) => served(i, from + i, row)));
      const job = await replays.submit({
        model: 'iris',
        candidate: 'v2',
        since: from,
        until: Date.now(),
        limit: null,
      });
      await expect.poll(() => runs).toBeGreaterThan(0);
      expect((await replays.get(job.id)).status).toBe('running');
      // Answered while the replay hangs: queued, not yet written.
      storage.predictionLog.append(
        irisRows(20, 2).map((row, i) => served(100 + i, Date.now(), row)),
      );

      await replays.close(Date.now() + 200);
      expect(await storage.close(Date.now() + 5_000)).toEqual([]);
      const db = new Database(path, { readonly: true });
      const { n } = db.prepare('SELECT count(*) AS n FROM predictions').get() as { n: number };
      db.close();
      expect(n).toBe(70);
    } finally {
      await host.close();
    }
  });
});
