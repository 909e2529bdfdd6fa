import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  type ChildGateway,
  killLeftoverGateways,
  PROJECT_ROOT,
  startChildGateway,
} from './support/child-gateway.js';
import { readError, readPrediction, readReadiness } from './support/responses.js';
import { IRIS_ROW } from './support/test-gateway.js';

const TOKEN = 'sqlite-trouble-token-0123456';
const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};
afterEach(killLeftoverGateways);
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const countRows = (dbPath: string): number => {
  const db = new Database(dbPath, { readonly: true });
  const { n } = db.prepare('SELECT count(*) AS n FROM predictions').get() as { n: number };
  db.close();
  return n;
};

const predict = (gateway: ChildGateway, rows: number) =>
  fetch(`${gateway.url}/predict/iris`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ instances: Array(rows).fill(IRIS_ROW) }),
  });
const ready = async (gateway: ChildGateway) => {
  const res = await fetch(`${gateway.url}/v2/health/ready`);
  return { status: res.status, body: await readReadiness(res) };
};
const controlChange = (gateway: ChildGateway) =>
  fetch(`${gateway.url}/control/split`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ model: 'iris', weights: { v1: 50, v2: 50 } }),
  });
const warningsAbout = (output: string, msg: string) =>
  output.split('\n').filter((line) => line.includes(`"msg":"${msg}`)).length;

describe('SQLite on a full disk', () => {
  it('reports degraded, refuses at MODELGATE_LOG_MAX_QUEUE, and writes every answered row once space returns', async () => {
    if (process.getuid?.() !== 0) {
      throw new Error('this test mounts a small tmpfs to fill it: run it as root (CI does)');
    }
    const disk = tempDir('modelgate-full-disk-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', disk]);
    try {
      const dbPath = join(disk, 'modelgate.db');
      const gateway = await startChildGateway({
        MODELGATE_DB: dbPath,
        MODELGATE_CONTROL_TOKEN: TOKEN,
        MODELGATE_LOG_MAX_QUEUE: '1000',
        MODELGATE_SPILL_DIR: tempDir('modelgate-spill-'),
      });
      // Fill every byte left on the tmpfs.
      const filler = join(disk, 'filler');
      const fd = openSync(filler, 'w');
      const block = Buffer.alloc(64 * 1024);
      try {
        for (;;) writeSync(fd, block);
      } catch (error) {
        expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
      } finally {
        closeSync(fd);
      }

      let answered = 0;
      let refused: { status: number; body: Awaited<ReturnType<typeof readError>> } | undefined;
      for (let i = 0; i < 2000 && !refused; i++) {
        const res = await predict(gateway, 100);
        if (res.status === 200) answered += (await readPrediction(res)).outputs.length;
        else refused = { status: res.status, body: await readError(res) };
      }
      expect(refused).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
      const full = await ready(gateway);
      expect(full.status).toBe(503);
      expect(full.body).toMatchObject({ ready: false, degraded: true });
      expect(full.body.storage).toMatchObject({ kind: 'sqlite', ok: false, accepting: false });
      expect(full.body.storage.detail).toMatch(/full/);
      // Bounded: never more than MODELGATE_LOG_MAX_QUEUE rows wait.
      expect(full.body.storage.pendingRows).toBeLessThanOrEqual(1000);
      expect((await controlChange(gateway)).status).toBe(503);
      // One warning for the whole burst, not one per retry.
      expect(warningsAbout(gateway.output(), 'prediction log write failed')).toBe(1);

      rmSync(filler);
      await expect
        .poll(async () => (await ready(gateway)).body, { timeout: 20_000 })
        .toMatchObject({ ready: true, degraded: false, storage: { pendingRows: 0 } });
      // The log line reaches us through the child's stdout pipe, a moment after readiness.
      await expect.poll(() => gateway.output()).toContain('prediction log writing again');
      expect(await gateway.stop('SIGTERM', 'node')).toBe(0);
      expect(countRows(dbPath)).toBe(answered);
    } finally {
      await killLeftoverGateways(); // a gateway left running would keep the mount busy
      execFileSync('umount', [disk]);
    }
  }, 180_000);
});

describe('SQLite write lock held by another process', () => {
  it('keeps answering without waiting for the lock, reports it, and writes every row after', async () => {
    const dbPath = join(tempDir('modelgate-locked-'), 'modelgate.db');
    const gateway = await startChildGateway({
      MODELGATE_DB: dbPath,
      MODELGATE_CONTROL_TOKEN: TOKEN,
    });
    // Another process takes the write lock and holds it for 5 s (a backup, a migration,
    // an operator's sqlite3 shell).
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const db = require('better-sqlite3')(process.argv[1]);
         db.exec('BEGIN IMMEDIATE');
         console.log('locked');
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5000);
         db.exec('COMMIT');
         console.log('released');`,
        dbPath,
      ],
      { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let holderOutput = '';
    holder.stdout.on('data', (chunk) => {
      holderOutput += chunk;
    });
    const released = new Promise((done) => holder.once('exit', done));
    await expect.poll(() => holderOutput, { timeout: 10_000 }).toContain('locked');

    let answered = 0;
    const latencies: number[] = [];
    let sawDegraded = false;
    let controlStatus = 0;
    while (!holderOutput.includes('released')) {
      const started = performance.now();
      const res = await predict(gateway, 10);
      latencies.push(performance.now() - started);
      expect(res.status).toBe(200);
      answered += (await readPrediction(res)).outputs.length;
      if (!sawDegraded) {
        const during = await ready(gateway);
        if (during.body.degraded) {
          sawDegraded = true;
          expect(during.status).toBe(200);
          expect(during.body.storage.detail).toMatch(/locked/);
          controlStatus = (await controlChange(gateway)).status;
        }
      }
    }
    await released;
    expect(sawDegraded).toBe(true);
    expect(controlStatus).toBe(503);
    latencies.sort((a, b) => a - b);
    const p99 = latencies[Math.floor(latencies.length * 0.99)] ?? Infinity;
    // With the lock waited for on the event loop, requests stalled up to 5 s each.
    expect(p99).toBeLessThan(1000);
    expect(latencies.length).toBeGreaterThan(20);

    await expect
      .poll(async () => (await ready(gateway)).body, { timeout: 20_000 })
      .toMatchObject({ degraded: false, storage: { pendingRows: 0 } });
    expect(await gateway.stop('SIGTERM', 'node')).toBe(0);
    expect(countRows(dbPath)).toBe(answered);
  }, 120_000);
});
