import { describe, expect, it, vi } from 'vitest';
import { createBatcher, type ModelInputs, type ModelOutputs } from './batcher.js';

/**
 * A runner over two inputs (FP32 pairs, a BYTES tag) that doubles each number, labels
 * each row with its tag, and records the batch sizes it was called with.
 */
function doublingRunner() {
  const calls: number[] = [];
  const run = async (inputs: ModelInputs, rows: number) => {
    calls.push(rows);
    return {
      scores: (inputs[0] as Float32Array).map((x) => x * 2),
      labels: [...(inputs[1] as string[])],
    };
  };
  return { run, calls };
}

const TYPES = ['FP32', 'BYTES'] as const;
const rowOf = (i: number): ModelInputs => [new Float32Array([i, i + 0.5]), [`row${i}`]];
const rowsOf = (n: number): ModelInputs => [new Float32Array(2 * n), Array(n).fill('')];

describe('createBatcher', () => {
  it('merges requests that arrive in one event-loop turn and splits the answers back', async () => {
    const runner = doublingRunner();
    const sizes: number[] = [];
    const run = createBatcher(runner.run, TYPES, 2, {
      windowUs: 500,
      maxRows: 100,
      onBatch: (rows) => sizes.push(rows),
    });
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => run(rowOf(i), 1)));
    expect(runner.calls).toEqual([10]);
    expect(sizes).toEqual([10]);
    expect(answers.map((answer) => [...answer.scores])).toEqual(
      Array.from({ length: 10 }, (_, i) => [i * 2, i * 2 + 1]),
    );
    expect(answers.map((answer) => answer.labels)).toEqual(
      Array.from({ length: 10 }, (_, i) => [`row${i}`]),
    );
  });

  it('never exceeds maxRows: a full batch goes at once, the rest in the next', async () => {
    const runner = doublingRunner();
    const run = createBatcher(runner.run, TYPES, 2, { windowUs: 500, maxRows: 4 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => run(rowOf(i), 1)));
    expect(runner.calls).toEqual([4, 4, 2]);
  });

  it('never exceeds maxRows with multi-row requests: one that would overflow starts the next batch', async () => {
    const runner = doublingRunner();
    const run = createBatcher(runner.run, TYPES, 2, { windowUs: 500, maxRows: 4 });
    const three = () => run(rowsOf(3), 3);
    await Promise.all([three(), three(), three(), run(rowOf(1), 1)]);
    expect(Math.max(...runner.calls)).toBeLessThanOrEqual(4);
    expect(runner.calls).toEqual([3, 3, 4]);
  });

  it('runs at once with the window at 0 or a request of maxRows rows', async () => {
    const runner = doublingRunner();
    const unbatched = createBatcher(runner.run, TYPES, 2, { windowUs: 0, maxRows: 100 });
    await Promise.all([unbatched(rowOf(1), 1), unbatched(rowOf(2), 1)]);
    expect(runner.calls).toEqual([1, 1]);
    const big = createBatcher(runner.run, TYPES, 2, { windowUs: 500, maxRows: 2 });
    await big(rowsOf(2), 2);
    expect(runner.calls).toEqual([1, 1, 2]);
  });

  it('fails every request of a failed batch, and the next batch still runs', async () => {
    let fail = true;
    const run = createBatcher(
      async (inputs) => {
        if (fail) throw new Error('model exploded');
        return { scores: inputs[0] as Float32Array, labels: null };
      },
      TYPES,
      2,
      { windowUs: 500, maxRows: 100 },
    );
    const results = await Promise.allSettled([run(rowOf(1), 1), run(rowOf(2), 1)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect([...(await run(rowOf(3), 1)).scores]).toEqual([3, 3.5]);
  });

  describe('oneInFlight (a runner on a worker thread)', () => {
    /** A runner whose calls finish only when the test says so. */
    function heldRunner() {
      const calls: { rows: number; finish: () => void }[] = [];
      const run = (inputs: ModelInputs, rows: number) =>
        new Promise<ModelOutputs>((resolve) => {
          const scores = (inputs[0] as Float32Array).map((x) => x * 2);
          calls.push({ rows, finish: () => resolve({ scores, labels: null }) });
        });
      return { run, calls };
    }

    it('holds rows that arrive while a batch runs and sends them together next', async () => {
      const runner = heldRunner();
      const run = createBatcher(runner.run, TYPES, 2, {
        windowUs: 500,
        maxRows: 100,
        oneInFlight: true,
      });
      const first = run(rowOf(0), 1);
      await vi.waitFor(() => expect(runner.calls).toHaveLength(1));
      const later = Array.from({ length: 5 }, (_, i) => run(rowOf(i + 1), 1));
      // Several event-loop turns pass with the first batch still running: nothing else is sent.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(runner.calls.map((c) => c.rows)).toEqual([1]);
      runner.calls[0]?.finish();
      expect([...(await first).scores]).toEqual([0, 1]);
      await vi.waitFor(() => expect(runner.calls.map((c) => c.rows)).toEqual([1, 5]));
      runner.calls[1]?.finish();
      const answers = await Promise.all(later);
      expect(answers.map((a) => [...a.scores])).toEqual(
        Array.from({ length: 5 }, (_, i) => [(i + 1) * 2, (i + 1) * 2 + 1]),
      );
    });

    it('sends a backlog larger than maxRows in maxRows batches, in arrival order', async () => {
      const runner = heldRunner();
      const run = createBatcher(runner.run, TYPES, 2, {
        windowUs: 500,
        maxRows: 4,
        oneInFlight: true,
      });
      const first = run(rowOf(0), 1);
      await vi.waitFor(() => expect(runner.calls).toHaveLength(1));
      const backlog = Array.from({ length: 10 }, (_, i) => run(rowOf(i + 1), 1));
      for (let i = 0; i < 4; i++) {
        await vi.waitFor(() => expect(runner.calls).toHaveLength(i + 1));
        runner.calls[i]?.finish();
      }
      await first;
      const answers = await Promise.all(backlog);
      expect(runner.calls.map((c) => c.rows)).toEqual([1, 4, 4, 2]);
      expect(answers.map((a) => a.scores[0])).toEqual(
        Array.from({ length: 10 }, (_, i) => (i + 1) * 2),
      );
    });
  });
});
