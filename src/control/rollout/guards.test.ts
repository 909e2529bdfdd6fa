import { describe, expect, it } from 'vitest';
import { decideStep, judgedSteps, type RolloutPolicy } from './decision.js';
import { evaluateGuards, type VersionWindow, type WindowStats } from './guards.js';

const window = (over: Partial<VersionWindow> = {}): VersionWindow => ({
  requests: 1000,
  errors: 0,
  latency: [],
  accuracy: null,
  value: null,
  ...over,
});
const stats = (
  live: Partial<VersionWindow>,
  candidate: Partial<VersionWindow>,
  shadow?: WindowStats['shadow'],
): WindowStats => ({ live: window(live), candidate: window(candidate), shadow: shadow ?? null });
const accuracy = (n: number, rate: number) => ({ n, correct: Math.round(n * rate) });
const ALPHA = 0.05;

describe('evaluateGuards: non-inferiority on confidence sequences', () => {
  it('passes with no guards configured', () => {
    expect(evaluateGuards(stats({}, {}), {}, ALPHA).decision).toBe('pass');
  });

  describe('accuracy { margin }', () => {
    const guards = { accuracy: { margin: 0.02 } };
    it('passes when the whole interval of candidate − live is above −margin', () => {
      const result = evaluateGuards(
        stats({ accuracy: accuracy(50_000, 0.9) }, { accuracy: accuracy(50_000, 0.9) }),
        guards,
        ALPHA,
      );
      expect(result.decision).toBe('pass');
      const [reading] = result.readings;
      expect(reading).toMatchObject({ guard: 'accuracy', status: 'pass', limit: 0.02 });
      expect(reading?.interval.lower).toBeGreaterThan(-0.02);
      expect(reading?.interval.upper).toBeLessThan(0.02);
    });
    it('waits while the interval straddles the margin: no evidence is not evidence of no harm', () => {
      // 90 % vs 88 % on 200 each: the old z-test passed this.
      const result = evaluateGuards(
        stats({ accuracy: { n: 200, correct: 180 } }, { accuracy: { n: 200, correct: 176 } }),
        guards,
        ALPHA,
      );
      expect(result.decision).toBe('wait');
      expect(result.readings[0]?.interval.lower).toBeLessThan(-0.02);
    });
    it('fails when the whole interval is below 0', () => {
      const result = evaluateGuards(
        stats({ accuracy: { n: 500, correct: 450 } }, { accuracy: { n: 500, correct: 375 } }),
        guards,
        ALPHA,
      );
      expect(result.decision).toBe('fail');
      expect(result.tripped[0]?.interval.upper).toBeLessThan(0);
      expect(result.tripped[0]?.detail).toContain('accuracy difference');
    });
    it('decides at the alpha it is given: evidence enough at 0.05 is not enough at 1e-6', () => {
      const same = stats({ accuracy: accuracy(20_000, 0.9) }, { accuracy: accuracy(20_000, 0.9) });
      expect(evaluateGuards(same, guards, ALPHA).decision).toBe('pass');
      expect(evaluateGuards(same, guards, 1e-6).decision).toBe('wait');
    });
    it('waits without feedback', () => {
      expect(evaluateGuards(stats({}, {}), guards, ALPHA).decision).toBe('wait');
    });
  });

  describe('errorRate { margin }', () => {
    const guards = { errorRate: { margin: 0.01 } };
    it('does not fail on one error in 30 (the old rule saw +3.3 points)', () => {
      const result = evaluateGuards(
        stats({ requests: 30, errors: 0 }, { requests: 30, errors: 1 }),
        guards,
        ALPHA,
      );
      expect(result.decision).toBe('wait');
    });
    it('fails when the candidate surely errs more, passes when surely within the margin', () => {
      expect(
        evaluateGuards(
          stats({ requests: 2000, errors: 10 }, { requests: 2000, errors: 80 }),
          guards,
          ALPHA,
        ).decision,
      ).toBe('fail');
      expect(
        evaluateGuards(
          stats({ requests: 20_000, errors: 100 }, { requests: 20_000, errors: 100 }),
          guards,
          ALPHA,
        ).decision,
      ).toBe('pass');
    });
  });

  describe('value { margin, better }', () => {
    const summary = (n: number, mean: number) => ({ n, mean, variance: 1 });
    it('reads the direction: higher is better, or lower is better', () => {
      const worseIfHigherBetter = stats({ value: summary(5000, 1) }, { value: summary(5000, 0.7) });
      expect(
        evaluateGuards(worseIfHigherBetter, { value: { margin: 0.1, better: 'higher' } }, ALPHA)
          .decision,
      ).toBe('fail');
      expect(
        evaluateGuards(worseIfHigherBetter, { value: { margin: 0.1, better: 'lower' } }, ALPHA)
          .decision,
      ).toBe('pass');
    });
    it('waits through the burn-in of the asymptotic sequence', () => {
      const result = evaluateGuards(
        stats({ value: summary(29, 1) }, { value: summary(29, -5) }),
        { value: { margin: 0.1, better: 'higher' } },
        ALPHA,
      );
      expect(result.decision).toBe('wait');
    });
  });

  describe('latencyP95 { maxRatio }', () => {
    const guards = { latencyP95: { maxRatio: 1.5 } };
    // 1..100 ms, `per` requests each: p95 = 95 ms (scaled by `factor`).
    const latency = (per: number, factor = 1) =>
      Array.from({ length: 100 }, (_, i) => ({ upperEdge: (i + 1) * factor, count: per }));
    it('passes when the ratio is surely within the limit, fails when surely above', () => {
      expect(
        evaluateGuards(stats({ latency: latency(100) }, { latency: latency(100) }), guards, ALPHA)
          .decision,
      ).toBe('pass');
      const slow = evaluateGuards(
        stats({ latency: latency(100) }, { latency: latency(100, 2) }),
        guards,
        ALPHA,
      );
      expect(slow.decision).toBe('fail');
      expect(slow.tripped[0]?.interval.lower).toBeGreaterThan(1.5);
    });
    it('waits with few latencies', () => {
      expect(
        evaluateGuards(stats({ latency: latency(1) }, { latency: latency(1, 2) }), guards, ALPHA)
          .decision,
      ).toBe('wait');
    });
  });

  describe('shadowDisagreement { maxPercent }', () => {
    const guards = { shadowDisagreement: { maxPercent: 5 } };
    it('passes when surely below the limit, fails when surely above, waits between', () => {
      const decide = (pairs: number, same: number) =>
        evaluateGuards(stats({}, {}, { pairs, same }), guards, ALPHA).decision;
      expect(decide(5000, 4950)).toBe('pass');
      expect(decide(5000, 4500)).toBe('fail');
      expect(decide(200, 190)).toBe('wait');
      expect(evaluateGuards(stats({}, {}), guards, ALPHA).decision).toBe('wait');
    });
  });

  it('splits alpha between the guards and fails on any tripped guard while another waits', () => {
    const result = evaluateGuards(
      stats({ requests: 5000, errors: 0 }, { requests: 5000, errors: 500 }),
      { errorRate: { margin: 0.01 }, accuracy: { margin: 0.02 } },
      ALPHA,
    );
    expect(result.decision).toBe('fail');
    expect(result.readings.map((r) => [r.status, r.alpha])).toEqual([
      ['fail', ALPHA / 2],
      ['wait', ALPHA / 2],
    ]);
  });
});

describe('decideStep', () => {
  const policy = (over: Partial<RolloutPolicy> = {}): RolloutPolicy => ({
    alpha: 0.05,
    guards: { accuracy: { margin: 0.02 } },
    maxStepDurationMs: null,
    onInconclusive: 'hold',
    ...over,
  });
  const undecided = stats(
    { accuracy: { n: 100, correct: 90 } },
    { accuracy: { n: 100, correct: 90 } },
  );

  it('spends alpha evenly over the judged steps (the 100 % step is not judged)', () => {
    expect(judgedSteps([5, 25, 50, 100])).toBe(3);
    expect(judgedSteps([100])).toBe(1);
    const step = decideStep({
      stats: undecided,
      policy: policy(),
      steps: [5, 25, 50, 100],
      stepElapsedMs: 0,
    });
    expect(step.stepAlpha).toBeCloseTo(0.05 / 3, 12);
    expect(step.guards.readings[0]?.alpha).toBeCloseTo(0.05 / 3, 12);
  });

  it('after maxStepDuration an inconclusive step holds or rolls back, as configured', () => {
    const at = (stepElapsedMs: number, onInconclusive: 'hold' | 'rollback') =>
      decideStep({
        stats: undecided,
        policy: policy({ maxStepDurationMs: 60_000, onInconclusive }),
        steps: [50, 100],
        stepElapsedMs,
      });
    expect(at(59_999, 'rollback')).toMatchObject({ action: 'wait', inconclusive: false });
    expect(at(60_000, 'rollback')).toMatchObject({ action: 'rollback', inconclusive: true });
    expect(at(60_000, 'hold')).toMatchObject({ action: 'wait', inconclusive: true });
  });
});
