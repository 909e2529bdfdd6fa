import { describe, expect, it } from 'vitest';
import { evaluateGuards, type VersionWindow, type WindowStats } from './guards.js';

const window = (over: Partial<VersionWindow> = {}): VersionWindow => ({
  requests: 1000,
  errors: 0,
  p95Ms: 1,
  accuracy: null,
  ...over,
});
const stats = (
  live: Partial<VersionWindow>,
  candidate: Partial<VersionWindow>,
  shadow?: WindowStats['shadow'],
) => ({
  live: window(live),
  candidate: window(candidate),
  shadow: shadow ?? null,
});

describe('evaluateGuards', () => {
  it('passes with no guards configured', () => {
    expect(evaluateGuards(stats({}, {}), {}).decision).toBe('pass');
  });

  describe('errorRate', () => {
    const guards = { errorRate: { maxIncreasePoints: 2, minSamples: 100 } };
    it('passes within the limit: 1.0 % vs 2.5 % is +1.5 points', () => {
      const result = evaluateGuards(stats({ errors: 10 }, { errors: 25 }), guards);
      expect(result.decision).toBe('pass');
      expect(result.readings[0]).toMatchObject({
        guard: 'errorRate',
        live: 0.01,
        candidate: 0.025,
      });
    });
    it('fails past it: 1.0 % vs 3.5 % is +2.5 points', () => {
      const result = evaluateGuards(stats({ errors: 10 }, { errors: 35 }), guards);
      expect(result.decision).toBe('fail');
      expect(result.tripped.map((r) => r.guard)).toEqual(['errorRate']);
      expect(result.tripped[0]?.detail).toContain('+2.50 points');
    });
    it('waits with too few samples on either side', () => {
      const result = evaluateGuards(stats({}, { requests: 99, errors: 99 }), guards);
      expect(result.decision).toBe('wait');
      expect(result.readings[0]?.status).toBe('insufficient');
    });
  });

  describe('latencyP95', () => {
    const guards = { latencyP95: { maxRatio: 1.5, minSamples: 50 } };
    it('passes at ×1.4 and fails at ×1.6', () => {
      expect(evaluateGuards(stats({ p95Ms: 10 }, { p95Ms: 14 }), guards).decision).toBe('pass');
      expect(evaluateGuards(stats({ p95Ms: 10 }, { p95Ms: 16 }), guards).decision).toBe('fail');
    });
    it('waits without successful requests to measure', () => {
      expect(
        evaluateGuards(stats({ p95Ms: 10 }, { requests: 40, p95Ms: 99 }), guards).decision,
      ).toBe('wait');
      expect(evaluateGuards(stats({ p95Ms: null }, { p95Ms: 5 }), guards).decision).toBe('wait');
    });
  });

  describe('shadowDisagreement', () => {
    const guards = { shadowDisagreement: { maxPercent: 5, minSamples: 100 } };
    it('passes at 4 % disagreement and fails at 6 %', () => {
      expect(evaluateGuards(stats({}, {}, { pairs: 200, same: 192 }), guards).decision).toBe(
        'pass',
      );
      const failed = evaluateGuards(stats({}, {}, { pairs: 200, same: 188 }), guards);
      expect(failed.decision).toBe('fail');
      expect(failed.tripped[0]?.candidate).toBeCloseTo(0.06, 10);
    });
    it('waits with too few shadowed pairs', () => {
      expect(evaluateGuards(stats({}, {}, { pairs: 99, same: 0 }), guards).decision).toBe('wait');
      expect(evaluateGuards(stats({}, {}), guards).decision).toBe('wait');
    });
  });

  describe('accuracy', () => {
    const guards = { accuracy: { minSamples: 100 } };
    it('fails when the candidate is significantly worse (90 % vs 80 % on 500 each, p ≈ 1e-5)', () => {
      const result = evaluateGuards(
        stats({ accuracy: { n: 500, correct: 450 } }, { accuracy: { n: 500, correct: 400 } }),
        guards,
      );
      expect(result.decision).toBe('fail');
    });
    it('passes when it is worse but not significantly (90 % vs 88 % on 200 each)', () => {
      const result = evaluateGuards(
        stats({ accuracy: { n: 200, correct: 180 } }, { accuracy: { n: 200, correct: 176 } }),
        guards,
      );
      expect(result.decision).toBe('pass');
    });
    it('passes when the candidate is significantly better', () => {
      const result = evaluateGuards(
        stats({ accuracy: { n: 500, correct: 400 } }, { accuracy: { n: 500, correct: 450 } }),
        guards,
      );
      expect(result.decision).toBe('pass');
    });
    it('waits without enough feedback', () => {
      expect(evaluateGuards(stats({}, { accuracy: { n: 500, correct: 1 } }), guards).decision).toBe(
        'wait',
      );
    });
  });

  it('fails on any tripped guard even while another still waits', () => {
    const result = evaluateGuards(stats({ errors: 0 }, { errors: 500 }), {
      errorRate: { maxIncreasePoints: 1 },
      accuracy: {},
    });
    expect(result.decision).toBe('fail');
    expect(result.readings.map((r) => r.status)).toEqual(['fail', 'insufficient']);
  });
});
