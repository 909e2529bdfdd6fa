import { describe, expect, it } from 'vitest';
import { createPredictionCache } from './prediction-cache.js';

/** A two-class "model" that records what it was asked: p = [x0 / 10, 1 - x0 / 10]. */
function recordingModel() {
  const calls: number[][] = [];
  const compute = async (features: Float32Array, rows: number) => {
    calls.push(Array.from(features));
    const out = new Float32Array(rows * 2);
    for (let r = 0; r < rows; r++) {
      out[r * 2] = (features[r * 2] as number) / 10;
      out[r * 2 + 1] = 1 - (features[r * 2] as number) / 10;
    }
    return out;
  };
  return { calls, compute };
}

describe('prediction cache', () => {
  it('computes only the rows it has not seen and answers the others from memory', async () => {
    const cache = createPredictionCache(10, 2, 2);
    const model = recordingModel();
    await cache.run(Float32Array.from([1, 0, 2, 0]), 2, model.compute);
    const second = await cache.run(Float32Array.from([3, 0, 1, 0, 2, 0]), 3, model.compute);
    expect(model.calls).toEqual([
      [1, 0, 2, 0],
      [3, 0],
    ]);
    expect(second.cached).toEqual([false, true, true]);
    expect(second.hits).toBe(2);
    expect(Array.from(second.probabilities)).toEqual(
      Array.from(Float32Array.from([0.3, 0.7, 0.1, 0.9, 0.2, 0.8])),
    );
  });

  it('keeps at most maxRows rows, forgetting the least recently used', async () => {
    const cache = createPredictionCache(2, 2, 2);
    const model = recordingModel();
    for (const x of [1, 2, 1, 3]) await cache.run(Float32Array.from([x, 0]), 1, model.compute);
    expect(cache.size).toBe(2);
    // 2 was the least recently used when 3 arrived; 1 was used again and stays.
    expect((await cache.run(Float32Array.from([1, 0]), 1, model.compute)).hits).toBe(1);
    expect((await cache.run(Float32Array.from([2, 0]), 1, model.compute)).hits).toBe(0);
  });

  it('never remembers a non-finite answer, so a model that recovers is asked again', async () => {
    const cache = createPredictionCache(10, 2, 2);
    const broken = async () => Float32Array.from([Number.NaN, 0.5]);
    await cache.run(Float32Array.from([1, 0]), 1, broken);
    const model = recordingModel();
    const again = await cache.run(Float32Array.from([1, 0]), 1, model.compute);
    expect(again.hits).toBe(0);
    expect(model.calls).toHaveLength(1);
  });

  it('clear forgets every row', async () => {
    const cache = createPredictionCache(10, 2, 2);
    const model = recordingModel();
    await cache.run(Float32Array.from([1, 0]), 1, model.compute);
    cache.clear();
    expect((await cache.run(Float32Array.from([1, 0]), 1, model.compute)).hits).toBe(0);
  });
});
