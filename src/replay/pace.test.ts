import { describe, expect, it } from 'vitest';
import { createRandom as seededRandom } from '../../scripts/examples/prng.js';
import { createReplayPace, MAX_REPLAY_BATCH_ROWS, replayBatchRows } from './pace.js';

interface Started {
  at: number;
  rows: number;
}

/**
 * A job as the service runs it: each batch is ready `workMs()` after the previous one
 * started (reading, the ONNX call, writing), sometimes much later (a stall), and starts
 * when the pace says.
 */
function drive(options: {
  rate: number;
  totalRows: number;
  startedAt?: number;
  batchRows: () => number;
  workMs: () => number;
}): Started[] {
  const startedAt = options.startedAt ?? 0;
  const burst = replayBatchRows(options.rate);
  const pace = createReplayPace(startedAt, options.rate, burst);
  const starts: Started[] = [];
  let ready = startedAt;
  let done = 0;
  while (done < options.totalRows) {
    const rows = Math.min(options.batchRows(), options.totalRows - done);
    const at = pace.reserve(rows, ready);
    expect(at).toBeGreaterThanOrEqual(ready);
    starts.push({ at, rows });
    done += rows;
    ready = at + options.workMs();
  }
  return starts;
}

/** Rows started in every window from one batch's start to a later one's, against the bound. */
function worstExcess(starts: Started[], rate: number): number {
  let worst = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < starts.length; i++) {
    let rows = 0;
    for (let j = i; j < starts.length; j++) {
      rows += (starts[j] as Started).rows;
      const window = (starts[j] as Started).at - (starts[i] as Started).at;
      worst = Math.max(worst, rows - (rate * window) / 1000);
    }
  }
  return worst;
}

describe('replay pace', () => {
  it('after a 5 s stall, resumes one batch ahead and then keeps to the bound', () => {
    const rate = 2_000;
    const batch = replayBatchRows(rate);
    let first = true;
    // The first batch is ready 5 s late (a big window's count, a slow page read); each
    // batch then costs 0.2 ms, far under the bound's 32 ms.
    const steady = drive({ rate, totalRows: 20_000, batchRows: () => batch, workMs: () => 0.2 });
    expect(worstExcess(steady, rate)).toBeLessThanOrEqual(batch + 1e-9);
    const stalled = drive({
      rate,
      totalRows: 20_000,
      batchRows: () => batch,
      workMs: () => {
        if (!first) return 0.2;
        first = false;
        return 5_000;
      },
    });
    expect(worstExcess(stalled, rate)).toBeLessThanOrEqual(batch + 1e-9);
    // 10,240 rows after the stall take at least (10,240 − one batch) / 2,000 s, not 0.1 s.
    const after = stalled.slice(1, 161);
    const span = (after.at(-1) as Started).at - (after[0] as Started).at;
    expect(span).toBeGreaterThanOrEqual(((10_240 - batch - batch) / rate) * 1000 - 1e-9);
  });

  it('holds every sub-window to the bound plus one batch, whatever the stalls and batch sizes', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = seededRandom(seed);
      for (const rate of [1, 40, 2_000, 50_000]) {
        const burst = replayBatchRows(rate);
        const starts = drive({
          rate,
          totalRows: 3_000,
          // Pages end mid-batch, so batches come in every size up to the burst.
          batchRows: () => 1 + Math.floor(random() * burst),
          // Mostly fast, sometimes a stall of up to 3 s.
          workMs: () => (random() < 0.05 ? random() * 3_000 : random() * 2),
        });
        expect(worstExcess(starts, rate), `seed ${seed} rate ${rate}`).toBeLessThanOrEqual(
          burst + 1e-9,
        );
        // Since the start, never ahead of the bound at all: the bucket starts empty.
        let done = 0;
        for (const { at, rows } of starts) {
          done += rows;
          expect(done).toBeLessThanOrEqual((rate * at) / 1000 + 1e-9);
        }
      }
    }
  });

  it('runs at the bound when nothing stalls, not below it', () => {
    // 500 rows at 50/s in batches of 2: the last batch starts at 10 s.
    const starts = drive({ rate: 50, totalRows: 500, batchRows: () => 2, workMs: () => 1 });
    expect((starts.at(-1) as Started).at).toBe(10_000);
    const pace = createReplayPace(1_000, 50, 10);
    expect(pace.reserve(10, 0)).toBe(1_200);
    expect(pace.reserve(10, 0)).toBe(1_400);
    // Idle for a long time: one batch may start at once, the next waits its own share.
    expect(pace.reserve(10, 60_000)).toBe(60_000);
    expect(pace.reserve(10, 60_000)).toBe(60_200);
    // A smaller batch earns its start sooner.
    expect(pace.reserve(5, 60_000)).toBe(60_300);
  });

  it('batches about 20 a second at the bound, between 1 and the cap', () => {
    expect(replayBatchRows(1)).toBe(1);
    expect(replayBatchRows(50)).toBe(2);
    expect(replayBatchRows(400)).toBe(20);
    expect(replayBatchRows(2000)).toBe(MAX_REPLAY_BATCH_ROWS);
  });
});
