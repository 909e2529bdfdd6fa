import { describe, expect, it } from 'vitest';
import type { PredictionRecord } from './predictions.js';
import { createQueuedLog, type LogWriter, roomRowsFor } from './queued-log.js';

const row = (i: number): PredictionRecord => ({
  id: `id-${i}`,
  ts: 0,
  model: 'm',
  version: 'v1',
  route: 'live',
  userHash: null,
  requestId: 'r',
  input: '{}',
  output: null,
  label: null,
  score: null,
  latencyUs: 1,
  status: 'ok',
  error: null,
  shadowOf: null,
});
const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => row(from + i));

/** A writer whose commits wait until the test settles them, one at a time, in order. */
function heldWriter(maxRows: number) {
  const pending: Array<{ size: number; settle: (error?: Error) => void }> = [];
  const writer: LogWriter = {
    maxRows,
    write: (batch) =>
      new Promise((resolve, reject) => {
        pending.push({
          size: batch.length,
          settle: (error) => (error ? reject(error) : resolve(undefined)),
        });
      }),
  };
  /** Settles the write in flight (waiting for it to start) with success or `error`. */
  const next = async (error?: Error) => {
    await expect.poll(() => pending.length).toBeGreaterThan(0);
    pending.shift()?.settle(error);
  };
  return { writer, next };
}

const settled = async (promise: Promise<void> | undefined) => {
  let done = false;
  void promise?.then(() => {
    done = true;
  });
  // Two turns: the promise's reactions run before the check.
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
};

describe('back-pressure: predictions wait for a log writer that fell behind', () => {
  const options = { flushRows: 10, flushMs: 1, maxQueue: 1000 };

  it('waits only past a tenth of the queue (never under two flushes)', () => {
    expect(roomRowsFor(options)).toBe(100);
    expect(roomRowsFor({ flushRows: 500, maxQueue: 100_000 })).toBe(10_000);
    expect(roomRowsFor({ flushRows: 500, maxQueue: 2_000 })).toBe(1_000);
  });

  it('answers at once while the queue is at most that deep, then waits until a commit brings it under', async () => {
    const { writer, next } = heldWriter(80);
    const log = createQueuedLog(writer, options);
    log.append(rows(0, 100));
    expect(log.room()).toBeUndefined();
    log.append(rows(100, 50));
    expect(log.queueDepth).toBe(150);
    const waiting = log.room();
    expect(waiting).toBeInstanceOf(Promise);
    expect(await settled(waiting)).toBe(false);
    // The first commit takes 80 of 150 rows: 70 left, under 100.
    await next();
    expect(await settled(waiting)).toBe(true);
    expect(log.room()).toBeUndefined();
    await next();
    await log.flush();
  });

  it('keeps waiting while a commit leaves the queue deeper than that', async () => {
    const { writer, next } = heldWriter(20);
    const log = createQueuedLog(writer, options);
    log.append(rows(0, 150));
    const waiting = log.room();
    await next(); // 130 left
    expect(await settled(waiting)).toBe(false);
    await next(); // 110 left
    expect(await settled(waiting)).toBe(false);
    await next(); // 90 left
    expect(await settled(waiting)).toBe(true);
    for (let i = 0; i < 5; i++) await next();
    await log.flush();
  });

  it('does not hold answers for a failing database: a failed write releases them, and no one waits while it fails', async () => {
    const { writer, next } = heldWriter(20);
    const log = createQueuedLog(writer, options);
    log.append(rows(0, 150));
    const waiting = log.room();
    await next(new Error('disk I/O error'));
    expect(await settled(waiting)).toBe(true);
    expect(log.queueDepth).toBe(150);
    expect(log.room()).toBeUndefined();
    // Still failing: rows queue up to maxQueue as before, then the 503.
    expect(() => log.append(rows(150, 900))).toThrow(/rows wait for the database/);
    const closing = log.close(Date.now() + 50);
    await expect(closing).resolves.toHaveLength(150);
  });

  it('releases whoever waits when the log closes', async () => {
    const { writer } = heldWriter(20);
    const log = createQueuedLog(writer, options);
    log.append(rows(0, 150));
    const waiting = log.room();
    const closing = log.close(Date.now() + 20);
    expect(await settled(waiting)).toBe(true);
    await closing;
  });
});
