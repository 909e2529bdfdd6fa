import { describe, expect, it } from 'vitest';
import { FEATURES, seededRegressorRows, seededRows } from '../../test/support/drift-log.js';
import { addToHistogram, type Histogram } from '../stats/value-bins.js';
import { labelDrift, numericDrift, trainingDrift } from './drift.js';
import { driftAgainstWindow } from './drift-report.js';
import { emptySample, type TrafficSample } from './traffic-sample.js';

/** The counts scanTraffic would make of these rows. */
function sampleOf(rows: ReturnType<typeof seededRows>): Map<string, TrafficSample> {
  const sample = emptySample();
  for (const row of rows) {
    sample.rows++;
    if (row.label !== null) sample.labels.set(row.label, (sample.labels.get(row.label) ?? 0) + 1);
    else if (row.score !== null) addToHistogram(sample.predicted, row.score);
    for (const [feature, value] of Object.entries(
      JSON.parse(row.input) as Record<string, number>,
    )) {
      const histogram = sample.features.get(feature) ?? new Map();
      addToHistogram(histogram, value);
      sample.features.set(feature, histogram);
    }
  }
  return new Map([['v1', sample]]);
}

const ROWS = 5_000;
const flaggedFor = (seed: number, shifted: boolean) => {
  const before = sampleOf(seededRows({ seed, rows: ROWS, from: 0, version: 'v1', idPrefix: 'b' }));
  const now = sampleOf(
    seededRows({
      seed: seed + 1000,
      rows: ROWS,
      from: 0,
      version: 'v1',
      idPrefix: 'n',
      ...(shifted && { shift: { feature: 'sepal_width' as const, sd: 0.5 } }),
    }),
  );
  return driftAgainstWindow({ since: 0, until: 1 }, before, now).versions[0];
};

describe('drift on seeded traffic (known answers)', () => {
  it('flags exactly the feature shifted by half a standard deviation', () => {
    for (const seed of [1, 2, 3]) {
      const drift = flaggedFor(seed, true);
      expect(drift?.flagged).toEqual(['sepal_width']);
      // Deciles of N(0,1) against N(0.5,1): PSI 0.2377 (scipy.stats.norm), within sampling noise.
      const psi = drift?.features.find((f) => f.feature === 'sepal_width')?.psi as number;
      expect(psi).toBeGreaterThan(0.2);
      expect(psi).toBeLessThan(0.29);
      // KS: sup |Φ(x) − Φ(x − 0.5)| = 2Φ(0.25) − 1 = 0.1974.
      const ks = drift?.features.find((f) => f.feature === 'sepal_width')?.ks;
      expect(ks?.statistic).toBeGreaterThan(0.17);
      expect(ks?.statistic).toBeLessThan(0.23);
      expect(ks?.pValue).toBeLessThan(1e-10);
    }
  });

  it('flags nothing on unshifted traffic in at least 19 of 20 seeds', () => {
    let clean = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const drift = flaggedFor(seed, false);
      expect(drift?.features.map((f) => f.feature)).toEqual([...FEATURES].sort());
      if (drift?.flagged.length === 0 && !drift.prediction?.flagged) clean++;
    }
    expect(clean).toBeGreaterThanOrEqual(19);
  });
});

describe("a regressor's prediction drift on seeded traffic (known answers)", () => {
  const driftFor = (seed: number, shiftSd: number) => {
    const rows = (s: number, prefix: string, shift: number) =>
      seededRegressorRows({
        seed: s,
        rows: ROWS,
        from: 0,
        version: 'v1',
        idPrefix: prefix,
        shiftSd: shift,
      });
    return driftAgainstWindow(
      { since: 0, until: 1 },
      sampleOf(rows(seed, 'b', 0)),
      sampleOf(rows(seed + 1000, 'n', shiftSd)),
    ).versions[0];
  };

  it('flags the predicted value moved by half a standard deviation, with PSI and KS as for a feature', () => {
    for (const seed of [1, 2, 3]) {
      const drift = driftFor(seed, 0.5);
      const prediction = drift?.prediction;
      expect(prediction?.kind).toBe('value');
      if (prediction?.kind !== 'value') continue;
      expect(prediction).toMatchObject({ rows: ROWS, baselineRows: ROWS, flagged: true });
      // N(0,1) against N(0.5,1): PSI over deciles 0.2377, KS D = 2Φ(0.25) − 1 = 0.1974.
      expect(prediction.psi).toBeGreaterThan(0.2);
      expect(prediction.psi).toBeLessThan(0.29);
      expect(prediction.ks.statistic).toBeGreaterThan(0.17);
      expect(prediction.ks.statistic).toBeLessThan(0.23);
      expect(prediction.ks.pValue).toBeLessThan(1e-10);
      expect(prediction.deciles).toHaveLength(9);
      // The inputs did not move: no feature flagged, and no label mix for a regressor.
      expect(drift?.flagged).toEqual([]);
      expect(drift?.features.map((f) => f.feature)).toEqual(['area', 'rooms']);
    }
  });

  it("cuts the predicted values' PSI buckets at the baseline's deciles: 1..100 against 51..150", () => {
    const sampleOfValues = (values: number[]) => {
      const sample = emptySample();
      for (const v of values) addToHistogram(sample.predicted, v);
      sample.rows = values.length;
      return new Map([['v1', sample]]);
    };
    const base = Array.from({ length: 100 }, (_, i) => i + 1);
    const prediction = driftAgainstWindow(
      { since: 0, until: 1 },
      sampleOfValues(base),
      sampleOfValues(base.map((x) => x + 50)),
    ).versions[0]?.prediction;
    if (prediction?.kind !== 'value') throw new Error('expected a value drift');
    expect(prediction.deciles).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
    const empty = 1e-4;
    expect(prediction.psi).toBeCloseTo(
      5 * (empty - 0.1) * Math.log(empty / 0.1) + 0.5 * Math.log(0.6 / 0.1),
      12,
    );
    expect(prediction.ks.statistic).toBeCloseTo(0.5, 12);
  });

  it('flags nothing on unshifted predictions in at least 19 of 20 seeds', () => {
    let clean = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const drift = driftFor(seed, 0);
      expect(drift?.prediction?.kind).toBe('value');
      if (drift?.flagged.length === 0 && drift.prediction?.flagged === false) clean++;
    }
    expect(clean).toBeGreaterThanOrEqual(19);
  });
});

describe('numericDrift', () => {
  const histogramOf = (values: number[]): Histogram => {
    const histogram: Histogram = new Map();
    for (const value of values) addToHistogram(histogram, value);
    return histogram;
  };

  it('gives the two-sample KS statistic SciPy gives, ties included', () => {
    // scipy.stats.ks_2samp (SciPy 1.17.1) of these two samples: D = 0.45.
    const a = [0.1, 0.5, 0.5, 1.0, 1.5, 2.0, 2.0, 2.0, 3.0, 4.5, 5.0, -1.0];
    const b = [0.5, 1.0, 2.0, 2.5, 3.0, 3.0, 3.5, 4.0, 6.0, 7.0];
    const drift = numericDrift(histogramOf(a), histogramOf(b));
    expect(drift.ks.statistic).toBeCloseTo(0.45, 12);
    expect(drift.ks.pValue).toBeCloseTo(0.21931014741717372, 12);
  });

  it('cuts PSI buckets at the baseline deciles: 1..100 against 51..150 by hand', () => {
    const base = Array.from({ length: 100 }, (_, i) => i + 1);
    const shifted = base.map((x) => x + 50);
    const drift = numericDrift(histogramOf(base), histogramOf(shifted));
    expect(drift.deciles).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
    // Current shares: 0 in the first five buckets, 0.1 in the next four, 0.6 above 90.
    const empty = 1e-4;
    const expected = 5 * (empty - 0.1) * Math.log(empty / 0.1) + 0.5 * Math.log(0.6 / 0.1);
    expect(drift.psi).toBeCloseTo(expected, 12);
    expect(drift.ks.statistic).toBeCloseTo(0.5, 12);
  });

  it('against training deciles: identical quantiles give PSI 0', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i / 10);
    const quantiles = Array.from({ length: 11 }, (_, k) => (k === 10 ? 99.9 : k * 10 - 0.05));
    const drift = trainingDrift({ n: 1000, quantiles }, histogramOf(values));
    expect(drift.psi).toBeCloseTo(0, 10);
    expect(drift.ks.statistic).toBeLessThan(0.002);
  });

  it('against training deciles: KS is the largest gap at the quantiles, a value on one counted as at or below it', () => {
    const quantiles = Array.from({ length: 11 }, (_, k) => k * 10);
    // Every current value at the training 20 % point: its CDF is 1 there against 0.2.
    const atSecondDecile = trainingDrift({ n: 1000, quantiles }, histogramOf(Array(500).fill(20)));
    expect(atSecondDecile.ks.statistic).toBeCloseTo(0.8, 12);
    // All above the training range: 0.9 short at the 90 % point.
    const above = trainingDrift({ n: 1000, quantiles }, histogramOf(Array(500).fill(1000)));
    expect(above.ks.statistic).toBeCloseTo(0.9, 12);
  });

  it('against training deciles: equal deciles share one bucket with their shares added', () => {
    // Half the training rows are 0: the 10 % … 50 % deciles are all 0.
    const quantiles = [0, 0, 0, 0, 0, 0, 6, 7, 8, 9, 10];
    const current = histogramOf([
      ...Array(500).fill(0),
      ...[3, 6.5, 7.5, 8.5, 9.5].flatMap((v) => Array(100).fill(v)),
    ]);
    const drift = trainingDrift({ n: 1000, quantiles }, current);
    expect(drift.deciles).toEqual([0, 6, 7, 8, 9]);
    expect(drift.psi).toBeCloseTo(0, 12);
  });

  it('cuts the baseline at distinct deciles when one value holds several of them', () => {
    // Half the baseline is 1: the 10 % … 50 % deciles are all that one bin.
    const baseline = histogramOf([
      ...Array(500).fill(1),
      ...Array.from({ length: 500 }, (_, i) => 2 + i),
    ]);
    const drift = numericDrift(baseline, baseline);
    expect(new Set(drift.deciles).size).toBe(drift.deciles.length);
    expect(drift.deciles).toHaveLength(5);
    expect(drift.psi).toBe(0);
  });
});

describe('label drift', () => {
  it('gives PSI and the chi-square test of the two label mixes, labels from either side', () => {
    // 50/50 against 80/20: PSI = 0.3·ln(1.6) − 0.3·ln(0.4); expected counts 65 and 35 per row.
    const drift = labelDrift(
      new Map([
        ['b', 50],
        ['a', 50],
      ]),
      new Map([
        ['a', 80],
        ['b', 20],
      ]),
    );
    expect(drift.psi).toBeCloseTo(0.3 * Math.log(1.6) - 0.3 * Math.log(0.4), 12);
    expect(drift.chiSquare?.statistic).toBeCloseTo(2 * (15 ** 2 / 65 + 15 ** 2 / 35), 12);
    expect(drift.chiSquare?.degreesOfFreedom).toBe(1);
    // A label only the current window has still counts.
    const newLabel = labelDrift(
      new Map([['a', 100]]),
      new Map([
        ['a', 50],
        ['c', 50],
      ]),
    );
    expect(newLabel.chiSquare?.degreesOfFreedom).toBe(1);
    expect(newLabel.psi).toBeGreaterThan(1);
  });
});
