import { describe, expect, it } from 'vitest';
import { createRandom } from '../../scripts/examples/prng.js';
import { sequentialSampleRatioTest } from './sequential-sample-ratio.js';
import { sampleRatioMismatch } from './statistics.js';

/**
 * Runs `experiments` experiments of `batches` batches of `batchSize` requests drawn with the
 * true shares and reads both tests after every batch, as a watched dashboard does. Returns
 * the share of experiments in which each test ever flagged a mismatch.
 */
function watch(options: {
  configured: Record<string, number>;
  truth: number[];
  experiments: number;
  batches: number;
  batchSize: number;
  alpha: number;
  seed: number;
}) {
  const versions = Object.keys(options.configured);
  const next = createRandom(options.seed);
  let sequentialAlarms = 0;
  let chiSquareAlarms = 0;
  const readingsToAlarm: number[] = [];
  for (let e = 0; e < options.experiments; e++) {
    const counts = versions.map(() => 0);
    let sequential = false;
    let chiSquare = false;
    for (let b = 1; b <= options.batches && !(sequential && chiSquare); b++) {
      for (let r = 0; r < options.batchSize; r++) {
        let u = next();
        let i = 0;
        while (i < counts.length - 1 && u >= (options.truth[i] as number)) {
          u -= options.truth[i] as number;
          i++;
        }
        counts[i] = (counts[i] as number) + 1;
      }
      const observed = Object.fromEntries(versions.map((v, i) => [v, counts[i] as number]));
      if (
        !sequential &&
        sequentialSampleRatioTest(observed, options.configured, options.alpha)?.mismatch
      ) {
        sequential = true;
        readingsToAlarm.push(b);
      }
      const fixed = sampleRatioMismatch(observed, options.configured);
      if (fixed && fixed.pValue < options.alpha) chiSquare = true;
    }
    if (sequential) sequentialAlarms++;
    if (chiSquare) chiSquareAlarms++;
  }
  readingsToAlarm.sort((a, b) => a - b);
  return {
    sequential: sequentialAlarms / options.experiments,
    chiSquare: chiSquareAlarms / options.experiments,
    medianReadings: readingsToAlarm[Math.floor(readingsToAlarm.length / 2)] ?? null,
  };
}

describe('sequentialSampleRatioTest', () => {
  it('computes the Dirichlet-multinomial Bayes factor (SciPy gammaln, by the formula)', () => {
    // ln BF = ln B(kθ0 + x) − ln B(kθ0) − Σ x ln θ0 with k = 100, evaluated in SciPy 1.17.1.
    const cases: Array<[Record<string, number>, Record<string, number>, number]> = [
      [{ v1: 5050, v2: 4950 }, { v1: 1, v2: 1 }, -1.8149288502972922],
      [{ v1: 5165, v2: 4835 }, { v1: 1, v2: 1 }, 3.082547348756634],
      [{ v1: 9300, v2: 700 }, { v1: 90, v2: 10 }, 52.5081808898276],
      [{ a: 1048, b: 1048, c: 904 }, { a: 1, b: 1, c: 1 }, 3.363091177451224],
      [{ v1: 0, v2: 10 }, { v1: 1, v2: 1 }, 0.41146592913456015],
    ];
    for (const [observed, shares, logBayesFactor] of cases) {
      const test = sequentialSampleRatioTest(observed, shares, 0.05);
      expect(test?.logBayesFactor).toBeCloseTo(logBayesFactor, 8);
      expect(test?.pValue).toBeCloseTo(Math.min(1, Math.exp(-logBayesFactor)), 12);
    }
    // 5165 / 4835 of 50/50: the chi-square says p = 0.00097; read sequentially it is 0.046,
    // the price of being allowed to look after every request.
    const borderline = sequentialSampleRatioTest({ v1: 5165, v2: 4835 }, { v1: 1, v2: 1 }, 0.05);
    expect(borderline).toMatchObject({ mismatch: true, alpha: 0.05 });
    expect(
      sequentialSampleRatioTest({ v1: 5165, v2: 4835 }, { v1: 1, v2: 1 }, 0.001)?.mismatch,
    ).toBe(false);
    // Shares are relative weights.
    expect(
      sequentialSampleRatioTest({ v1: 9300, v2: 700 }, { v1: 0.9, v2: 0.1 }, 0.05)?.logBayesFactor,
    ).toBeCloseTo(52.5081808898276, 8);
  });

  it('raises at most alpha false alarms when read after every batch (seeded, 2,000 experiments)', () => {
    // 50/50 and 90/10 splits doing what they were told; 20 requests per batch, read after
    // each of 250 batches (5,000 requests). Ville's inequality bounds the sequential test's
    // alarm rate by alpha = 0.05; the chi-square read the same way alarms far more often.
    // Measured with these seeds: sequential 2.1 % and 2.2 %, chi-square 41.4 % and 42.0 %.
    for (const [configured, truth, seed] of [
      [{ v1: 50, v2: 50 }, [0.5, 0.5], 1],
      [{ v1: 90, v2: 10 }, [0.9, 0.1], 2],
    ] as const) {
      const rates = watch({
        configured,
        truth: [...truth],
        experiments: 1000,
        batches: 250,
        batchSize: 20,
        alpha: 0.05,
        seed,
      });
      expect(rates.sequential).toBeLessThanOrEqual(0.05);
      expect(rates.chiSquare).toBeGreaterThan(0.2);
    }
  });

  it('detects a real mismatch: 54/46 against a 50/50 split (seeded)', () => {
    // Measured: 99.5 % of 400 experiments flagged within 5,000 requests, median 58 readings.
    const rates = watch({
      configured: { v1: 50, v2: 50 },
      truth: [0.54, 0.46],
      experiments: 400,
      batches: 250,
      batchSize: 20,
      alpha: 0.05,
      seed: 3,
    });
    expect(rates.sequential).toBeGreaterThanOrEqual(0.95);
    expect(rates.medianReadings).not.toBeNull();
  });

  it('treats traffic outside the split as a mismatch and is null with nothing to test', () => {
    expect(sequentialSampleRatioTest({ v1: 10, v2: 10, v3: 1 }, { v1: 1, v2: 1 }, 0.001)).toEqual({
      logBayesFactor: Number.POSITIVE_INFINITY,
      pValue: 0,
      alpha: 0.001,
      mismatch: true,
      unexpected: ['v3'],
    });
    expect(sequentialSampleRatioTest({ v1: 10 }, { v1: 1 }, 0.05)).toBeNull();
    // A version at share 0, or outside the split with no traffic, is no version to test.
    const plain = sequentialSampleRatioTest({ v1: 60, v2: 40 }, { v1: 1, v2: 1 }, 0.05);
    expect(plain?.logBayesFactor).toBeGreaterThan(Number.NEGATIVE_INFINITY);
    expect(sequentialSampleRatioTest({ v1: 60, v2: 40 }, { v1: 1, v2: 1, v3: 0 }, 0.05)).toEqual(
      plain,
    );
    expect(sequentialSampleRatioTest({ v1: 60, v2: 40, v3: 0 }, { v1: 1, v2: 1 }, 0.05)).toEqual(
      plain,
    );
    expect(sequentialSampleRatioTest({ v1: 10, v2: 0 }, { v1: 1, v2: 0 }, 0.05)).toBeNull();
    expect(() => sequentialSampleRatioTest({ v1: 1, v2: 1 }, { v1: 1, v2: 1 }, 0)).toThrow(
      /alpha must be in \(0, 1\), got 0/,
    );
    expect(() => sequentialSampleRatioTest({ v1: 1, v2: 1 }, { v1: 1, v2: 1 }, 0.05, 0)).toThrow(
      /concentration must be a finite number > 0, got 0/,
    );
    expect(sequentialSampleRatioTest({}, { v1: 1, v2: 1 }, 0.05)).toBeNull();
    expect(() => sequentialSampleRatioTest({ v1: 1.5, v2: 1 }, { v1: 1, v2: 1 }, 0.05)).toThrow(
      RangeError,
    );
    expect(() => sequentialSampleRatioTest({ v1: 1, v2: 1 }, { v1: -1, v2: 1 }, 0.05)).toThrow(
      RangeError,
    );
    expect(() => sequentialSampleRatioTest({ v1: 1, v2: 1 }, { v1: 1, v2: 1 }, 1)).toThrow(
      RangeError,
    );
  });
});
