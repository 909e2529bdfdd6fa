import { describe, expect, it } from 'vitest';
import { bernoulliSequence, differenceOf, meanSequence } from '../stats/confidence-sequence.js';
import {
  accuracyDifferenceSequence,
  meanDifferenceSequence,
  meanValueSequence,
} from './sequential-figures.js';
import { newcombeInterval } from './statistics.js';

describe('sequential figures', () => {
  it('gives the accuracy difference as two sequences at alpha/2 and its p-value where it touches 0', () => {
    const baseline = { correct: 400, n: 500 };
    const candidate = { correct: 450, n: 500 };
    const d = accuracyDifferenceSequence(baseline, candidate);
    const expected = differenceOf(
      bernoulliSequence(450, 500, 0.025),
      bernoulliSequence(400, 500, 0.025),
    );
    expect([d.low, d.high]).toEqual([expected.lower, expected.upper]);
    // The p-value is the alpha at which the interval's lower end reaches 0.
    const at = (alpha: number) =>
      differenceOf(bernoulliSequence(450, 500, alpha / 2), bernoulliSequence(400, 500, alpha / 2));
    expect(at(d.pValue * 1.001).lower).toBeGreaterThan(0);
    expect(at(d.pValue * 0.999).lower).toBeLessThanOrEqual(0);
    expect(d.significant).toBe(d.pValue < 0.05);
    // Wider than the interval read once, and more cautious.
    const fixed = newcombeInterval(400, 500, 450, 500);
    expect(d.low).toBeLessThan(fixed?.low ?? 0);
    expect(d.high).toBeGreaterThan(fixed?.high ?? 0);
  });

  it('says no difference with p = 1 for identical versions', () => {
    const same = accuracyDifferenceSequence({ correct: 90, n: 100 }, { correct: 90, n: 100 });
    expect(same.pValue).toBe(1);
    expect(same.significant).toBe(false);
  });

  it('gives mean values and their difference, null below two values', () => {
    const a = { n: 400, mean: 10, variance: 4 };
    const b = { n: 300, mean: 12, variance: 9 };
    const one = meanValueSequence(a);
    const direct = meanSequence(a, 0.05);
    expect(one).toEqual({ low: direct.lower, high: direct.upper });
    const d = meanDifferenceSequence(a, b);
    const expected = differenceOf(meanSequence(b, 0.025), meanSequence(a, 0.025));
    expect(d).toMatchObject({ low: expected.lower, high: expected.upper, significant: true });
    expect(d?.pValue).toBeLessThan(0.05);
    expect(meanValueSequence({ n: 1, mean: 3, variance: 0 })).toBeNull();
    expect(meanDifferenceSequence(a, { n: 1, mean: 3, variance: 0 })).toBeNull();
    expect(meanDifferenceSequence({ n: 1, mean: 3, variance: 0 }, a)).toBeNull();
    // Two values are enough.
    const two = { n: 2, mean: 3, variance: 1 };
    const atTwo = meanSequence(two, 0.05);
    expect(meanValueSequence(two)).toEqual({ low: atTwo.lower, high: atTwo.upper });
    expect(meanDifferenceSequence(two, two)).not.toBeNull();
  });

  it('is significant when the candidate is surely worse, too (the interval wholly below 0)', () => {
    const worse = accuracyDifferenceSequence({ correct: 450, n: 500 }, { correct: 350, n: 500 });
    expect(worse.high).toBeLessThan(0);
    expect(worse.pValue).toBeLessThan(0.05);
    expect(worse.significant).toBe(true);
    // Mirror image of the better candidate: same p-value.
    const better = accuracyDifferenceSequence({ correct: 350, n: 500 }, { correct: 450, n: 500 });
    expect(worse.pValue).toBeCloseTo(better.pValue, 12);
  });
});
