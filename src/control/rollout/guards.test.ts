import { describe, expect, it } from 'vitest';
import {
  bernoulliSequence,
  differenceOf,
  quantileSequence,
  ratioOf,
} from '../../stats/confidence-sequence.js';
import { decideStep, judgedSteps, type RolloutPolicy } from './decision.js';
import { evaluateGuards, type VersionWindow, type WindowStats } from './guards.js';

const window = (over: Partial<VersionWindow> = {}): VersionWindow => ({
  requests: 1000,
  errors: 0,
  latency: [],
  accuracy: null,
  value: null,
  predictionError: null,
  ...over,
});
const stats = (
  live: Partial<VersionWindow>,
  candidate: Partial<VersionWindow>,
  shadow?: WindowStats['shadow'],
): WindowStats => ({ live: window(live), candidate: window(candidate), shadow: shadow ?? null });
const accuracy = (n: number, rate: number) => ({ n, correct: Math.round(n * rate) });
const ALPHA = 0.05;
/**
 * The asymptotic CS written out here, independently of confidence-sequence.ts
 * (Waudby-Smith et al. 2024, Theorem 2.2, tuned for n = 1,000).
 */
const cs = (m: { n: number; mean: number; variance: number }, alpha: number) => {
  const la = -2 * Math.log(alpha);
  const rho2 = (la + Math.log(la + 1)) / 1000;
  const nr = m.n * rho2 + 1;
  const half =
    Math.sqrt(m.variance) *
    Math.sqrt(((2 * nr) / (m.n * m.n * rho2)) * Math.log(Math.sqrt(nr) / alpha));
  return { lower: m.mean - half, upper: m.mean + half };
};

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

  it('shows rate guards the interval of both arms at alpha/2, with the rates to 4 places', () => {
    const live = { requests: 3000, errors: 10 };
    const candidate = { requests: 3000, errors: 20 };
    const result = evaluateGuards(
      stats(
        { ...live, accuracy: { n: 3, correct: 2 } },
        { ...candidate, accuracy: { n: 0, correct: 0 } },
      ),
      { errorRate: { margin: 0.01 }, accuracy: { margin: 0.02 } },
      ALPHA,
    );
    const [errorRate, accuracyReading] = result.readings;
    // Two guards: each at ALPHA / 2, each arm's sequence at half of that.
    expect(errorRate?.interval).toEqual(
      differenceOf(bernoulliSequence(20, 3000, ALPHA / 4), bernoulliSequence(10, 3000, ALPHA / 4)),
    );
    expect(errorRate).toMatchObject({ live: 0.0033, candidate: 0.0067, alpha: ALPHA / 2 });
    expect(errorRate?.samples).toEqual({ live: 3000, candidate: 3000 });
    expect(accuracyReading?.interval).toEqual(
      differenceOf(bernoulliSequence(0, 0, ALPHA / 4), bernoulliSequence(2, 3, ALPHA / 4)),
    );
    expect(accuracyReading).toMatchObject({ live: 0.6667, candidate: null, status: 'wait' });
    expect(accuracyReading?.samples).toEqual({ live: 3, candidate: 0 });
  });

  it('names each reading after its guard, in a fixed order, with its limit', () => {
    const summary = { n: 100, mean: 1, variance: 1 };
    const window = {
      value: summary,
      predictionError: { absolute: summary, squared: summary },
      latency: [{ upperEdge: 10, count: 100 }],
    };
    const result = evaluateGuards(
      stats(window, window, { pairs: 100, same: 99 }),
      {
        rmse: { margin: 0.4 },
        mae: { margin: 0.3 },
        value: { margin: 0.2, better: 'higher' },
        accuracy: { margin: 0.02 },
        shadowDisagreement: { maxPercent: 5 },
        latencyP95: { maxRatio: 1.5 },
        errorRate: { margin: 0.01 },
      },
      ALPHA,
    );
    expect(result.readings.map((r) => [r.guard, r.limit, r.alpha])).toEqual([
      ['errorRate', 0.01, ALPHA / 7],
      ['latencyP95', 1.5, ALPHA / 7],
      ['shadowDisagreement', 5, ALPHA / 7],
      ['accuracy', 0.02, ALPHA / 7],
      ['value', 0.2, ALPHA / 7],
      ['mae', 0.3, ALPHA / 7],
      ['rmse', 0.4, ALPHA / 7],
    ]);
    expect(result.readings.map((r) => r.samples)).toEqual([
      { live: 1000, candidate: 1000 },
      { live: 100, candidate: 100 },
      { live: 100, candidate: 100 },
      { live: 0, candidate: 0 },
      { live: 100, candidate: 100 },
      { live: 100, candidate: 100 },
      { live: 100, candidate: 100 },
    ]);
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
      expect(result.readings[0]?.interval).toEqual({
        lower: Number.NEGATIVE_INFINITY,
        upper: Number.POSITIVE_INFINITY,
      });
    });
    it('lower is better: a higher candidate fails, an equal one passes, a close one waits', () => {
      const lower = { value: { margin: 0.1, better: 'lower' as const } };
      const decide = (live: number, candidate: number, n: number) =>
        evaluateGuards(
          stats({ value: summary(n, live) }, { value: summary(n, candidate) }),
          lower,
          ALPHA,
        ).decision;
      expect(decide(1, 1.3, 5000)).toBe('fail');
      expect(decide(1, 1, 50_000)).toBe('pass');
      expect(decide(1, 1.05, 500)).toBe('wait');
    });
    it('higher is better: an equal candidate passes, a close one waits', () => {
      const higher = { value: { margin: 0.1, better: 'higher' as const } };
      const decide = (live: number, candidate: number, n: number) =>
        evaluateGuards(
          stats({ value: summary(n, live) }, { value: summary(n, candidate) }),
          higher,
          ALPHA,
        ).decision;
      expect(decide(1, 1, 50_000)).toBe('pass');
      expect(decide(1, 0.95, 500)).toBe('wait');
    });
    it('passes a candidate far better than live, in either direction', () => {
      const decide = (better: 'higher' | 'lower', candidate: number) =>
        evaluateGuards(
          stats({ value: summary(5000, 1) }, { value: summary(5000, candidate) }),
          { value: { margin: 0.1, better } },
          ALPHA,
        ).decision;
      expect(decide('higher', 2)).toBe('pass');
      expect(decide('lower', 0)).toBe('pass');
    });
    it('the interval is candidate − live of both arms at alpha/2, judged against ±margin', () => {
      // Equal means, n = 3000 each: about ±0.12, checked against the sequence written out above.
      const live = summary(3000, 1);
      const candidate = summary(3000, 1);
      const c = cs(candidate, ALPHA / 2);
      const l = cs(live, ALPHA / 2);
      for (const better of ['higher', 'lower'] as const) {
        const [reading] = evaluateGuards(
          stats({ value: live }, { value: candidate }),
          { value: { margin: 0.1, better } },
          ALPHA,
        ).readings;
        expect(reading?.interval.lower).toBeCloseTo(c.lower - l.upper, 12);
        expect(reading?.interval.upper).toBeCloseTo(c.upper - l.lower, 12);
        expect(reading).toMatchObject({ guard: 'value', live: 1, candidate: 1, limit: 0.1 });
        expect(reading?.samples).toEqual({ live: 3000, candidate: 3000 });
      }
    });
  });

  describe('mae { margin } and rmse { margin } (a regressor against numeric feedback)', () => {
    /** Errors N(0, sd²): |e| has mean sd·√(2/π) and variance sd²(1 − 2/π); e² mean sd², variance 2sd⁴. */
    const errors = (n: number, sd: number, squaredSd = sd) => ({
      predictionError: {
        absolute: { n, mean: sd * Math.sqrt(2 / Math.PI), variance: sd * sd * (1 - 2 / Math.PI) },
        squared: { n, mean: squaredSd ** 2, variance: 2 * squaredSd ** 4 },
      },
    });

    it('mae: the interval is candidate − live of both arms at alpha/2; passes below the margin', () => {
      const live = errors(20_000, 5);
      const candidate = errors(20_000, 5);
      const result = evaluateGuards(stats(live, candidate), { mae: { margin: 0.5 } }, ALPHA);
      const c = cs(candidate.predictionError.absolute, ALPHA / 2);
      const l = cs(live.predictionError.absolute, ALPHA / 2);
      const [reading] = result.readings;
      expect(reading).toMatchObject({ guard: 'mae', status: 'pass', limit: 0.5, alpha: ALPHA });
      expect(reading?.interval.lower).toBeCloseTo(c.lower - l.upper, 12);
      expect(reading?.interval.upper).toBeCloseTo(c.upper - l.lower, 12);
      expect(reading?.interval.upper).toBeLessThan(0.5);
      expect(reading?.live).toBeCloseTo(5 * Math.sqrt(2 / Math.PI), 4);
      expect(reading?.samples).toEqual({ live: 20_000, candidate: 20_000 });
      expect(reading?.detail).toContain('MAE difference');
    });

    it('mae: lower is better: a larger error fails, a smaller one passes, a close one waits', () => {
      const decide = (liveSd: number, candidateSd: number, n: number) =>
        evaluateGuards(
          stats(errors(n, liveSd), errors(n, candidateSd)),
          { mae: { margin: 0.5 } },
          ALPHA,
        ).decision;
      expect(decide(5, 6.5, 5000)).toBe('fail');
      expect(decide(6.5, 5, 5000)).toBe('pass');
      // 0.6 worse in sd is 0.48 in MAE: within the margin, but not yet shown to be at n = 500.
      expect(decide(5, 5.6, 500)).toBe('wait');
    });

    it('mae and rmse wait through the burn-in, and without feedback values', () => {
      // Errors of about 1 against about 50, spread 1: decisive as soon as the burn-in is over.
      const steady = (n: number, level: number) => ({
        predictionError: {
          absolute: { n, mean: level, variance: 1 },
          squared: { n, mean: level * level, variance: 1 },
        },
      });
      for (const guards of [{ mae: { margin: 0.5 } }, { rmse: { margin: 0.5 } }]) {
        const at = (n: number) =>
          evaluateGuards(stats(steady(n, 1), steady(n, 50)), guards, ALPHA).decision;
        expect(at(29)).toBe('wait');
        expect(at(30)).toBe('fail');
        expect(evaluateGuards(stats({}, {}), guards, ALPHA).decision).toBe('wait');
      }
    });

    // Integer targets: a regressor's first errors are often all 0 (or all 1). The sequence
    // plugs in σ̂ = 0 and gives a point; read as certain, it would pass a candidate whose
    // true MAE is far above live's after 30 lucky rows (review finding 6).
    it('mae and rmse wait while an arm has shown no spread (sample variance 0), then decide', () => {
      /** Summaries of integer errors: `ones` errors of 1, the rest 0. */
      const integerErrors = (n: number, ones: number) => {
        const mean = ones / n;
        const variance = n > 1 ? (ones * (1 - mean) ** 2 + (n - ones) * mean ** 2) / (n - 1) : 0;
        return {
          predictionError: { absolute: { n, mean, variance }, squared: { n, mean, variance } },
        };
      };
      for (const guards of [{ mae: { margin: 0.05 } }, { rmse: { margin: 0.05 } }]) {
        const decide = (live: [number, number], candidate: [number, number]) =>
          evaluateGuards(stats(integerErrors(...live), integerErrors(...candidate)), guards, ALPHA);
        // Both exact on 30 rows, and a candidate exact on 30 against a live arm with spread.
        const bothExact = decide([30, 0], [30, 0]);
        expect(bothExact.decision).toBe('wait');
        expect(bothExact.readings[0]?.interval).toEqual({
          lower: Number.NEGATIVE_INFINITY,
          upper: Number.POSITIVE_INFINITY,
        });
        expect(decide([5000, 100], [30, 0]).decision).toBe('wait');
        // Nor can it fail while live has shown no spread, however bad the candidate looks.
        expect(decide([30, 0], [5000, 2500]).decision).toBe('wait');
        // Off by exactly 1 every time is no spread either.
        expect(decide([5000, 100], [30, 30]).decision).toBe('wait');
        // Once both arms vary it decides as before: 10 % off by one against 2 % fails,
        // and 2 % against 2 % at 20,000 rows each passes within 0.05.
        expect(decide([5000, 100], [5000, 500]).decision).toBe('fail');
        expect(decide([20_000, 400], [20_000, 400]).decision).toBe('pass');
      }
    });

    it('value waits while an arm has shown no spread (0/1 outcomes all alike)', () => {
      const outcomes = (n: number, ones: number) => {
        const mean = ones / n;
        return {
          value: { n, mean, variance: (ones * (1 - mean) ** 2 + (n - ones) * mean ** 2) / (n - 1) },
        };
      };
      const higher = { value: { margin: 0.05, better: 'higher' as const } };
      expect(
        evaluateGuards(stats(outcomes(30, 30), outcomes(30, 30)), higher, ALPHA).decision,
      ).toBe('wait');
      expect(
        evaluateGuards(stats(outcomes(5000, 4900), outcomes(30, 30)), higher, ALPHA).decision,
      ).toBe('wait');
      expect(
        evaluateGuards(stats(outcomes(5000, 4000), outcomes(5000, 2500)), higher, ALPHA).decision,
      ).toBe('fail');
    });

    it('rmse: the MSE sequences carried through the square root', () => {
      const live = errors(20_000, 5);
      const candidate = errors(20_000, 5);
      const [reading] = evaluateGuards(
        stats(live, candidate),
        { rmse: { margin: 0.5 } },
        ALPHA,
      ).readings;
      const c = cs(candidate.predictionError.squared, ALPHA / 2);
      const l = cs(live.predictionError.squared, ALPHA / 2);
      expect(reading).toMatchObject({ guard: 'rmse', status: 'pass', limit: 0.5 });
      expect(reading?.interval.lower).toBeCloseTo(Math.sqrt(c.lower) - Math.sqrt(l.upper), 12);
      expect(reading?.interval.upper).toBeCloseTo(Math.sqrt(c.upper) - Math.sqrt(l.lower), 12);
      expect(reading?.live).toBeCloseTo(5, 4);
      expect(reading?.detail).toContain('RMSE difference');
    });

    it('rmse: an MSE interval reaching below 0 is cut at 0 before the square root', () => {
      // Mean square 1 with a huge spread at n = 30: the MSE interval starts below 0.
      const wide = {
        predictionError: {
          absolute: { n: 30, mean: 1, variance: 1 },
          squared: { n: 30, mean: 1, variance: 400 },
        },
      };
      const [reading] = evaluateGuards(
        stats(wide, wide),
        { rmse: { margin: 0.5 } },
        ALPHA,
      ).readings;
      const u = cs(wide.predictionError.squared, ALPHA / 2).upper;
      expect(reading?.interval.lower).toBeCloseTo(0 - Math.sqrt(u), 12);
      expect(reading?.interval.upper).toBeCloseTo(Math.sqrt(u) - 0, 12);
      expect(reading?.status).toBe('wait');
    });

    it('rmse reads the squared errors, mae the absolute ones: rare large misses show in rmse only', () => {
      // Same |e| on average, but the candidate's squares are those of sd 6.5.
      const live = errors(5000, 5);
      const candidate = errors(5000, 5, 6.5);
      expect(evaluateGuards(stats(live, candidate), { mae: { margin: 0.5 } }, ALPHA).decision).toBe(
        'pass',
      );
      expect(
        evaluateGuards(stats(live, candidate), { rmse: { margin: 0.5 } }, ALPHA).decision,
      ).toBe('fail');
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
    // Bounds sit on bucket edges, so an end can equal maxRatio exactly (maxRatio 2 and
    // edges a doubling apart: 32 log buckets). The interval is closed (ξ ≥ its lower
    // edge, ξ ≤ its upper edge) and "within" includes maxRatio itself: an end at the
    // limit neither rolls back nor stops a pass.
    it('at an end exactly on maxRatio: does not roll back, and passes', () => {
      const limit = { latencyP95: { maxRatio: 2 } };
      // 2 % below 50, the rest below 100: p95 in [50, 100]; all below 100: p95 in [0, 100].
      const live = [
        { upperEdge: 50, count: 20 },
        { upperEdge: 100, count: 980 },
      ];
      const allBelow100 = [{ upperEdge: 100, count: 1000 }];
      // 2 % below 200, the rest below 210: p95 in [200, 210], so candidate / live ≥ 200 / 100.
      const atDouble = [
        { upperEdge: 200, count: 20 },
        { upperEdge: 210, count: 980 },
      ];
      const slow = evaluateGuards(stats({ latency: live }, { latency: atDouble }), limit, ALPHA);
      expect(slow.readings[0]?.interval.lower).toBe(2);
      expect(slow.decision).toBe('wait');
      const slower = evaluateGuards(
        stats({ latency: live }, { latency: atDouble }),
        { latencyP95: { maxRatio: 1.99 } },
        ALPHA,
      );
      expect(slower.decision).toBe('fail');
      const fast = evaluateGuards(stats({ latency: live }, { latency: allBelow100 }), limit, ALPHA);
      expect(fast.readings[0]?.interval).toEqual({ lower: 0, upper: 2 });
      // p95 estimates: the geometric middle of each arm's interval, none while it starts at 0.
      expect(fast.readings[0]).toMatchObject({ live: 70.711, candidate: null });
      expect(fast.decision).toBe('pass');
    });
    it('holds each arm at alpha/2 and reads out the interval', () => {
      // 0.1 ms buckets, so that each end moves with the alpha it is held at.
      const fine = (factor: number) =>
        Array.from({ length: 1000 }, (_, i) => ({ upperEdge: ((i + 1) * factor) / 10, count: 3 }));
      const live = fine(1);
      const candidate = fine(1.2);
      const [reading] = evaluateGuards(
        stats({ latency: live }, { latency: candidate }),
        guards,
        ALPHA,
      ).readings;
      const interval = ratioOf(
        quantileSequence(candidate, 0.95, ALPHA / 2),
        quantileSequence(live, 0.95, ALPHA / 2),
      );
      expect(reading?.interval).toEqual(interval);
      expect(reading?.samples).toEqual({ live: 3000, candidate: 3000 });
      expect(reading?.detail).toBe(
        `p95 latency ratio [×${interval.lower.toFixed(2)}, ×${interval.upper.toFixed(2)}] (fails above ×1.5, passes within it)`,
      );
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

  it('rolls back on a failed guard and advances on passed guards, before or after maxStepDuration', () => {
    const failing = stats(
      { accuracy: { n: 500, correct: 450 } },
      { accuracy: { n: 500, correct: 375 } },
    );
    const passing = stats({ accuracy: accuracy(50_000, 0.9) }, { accuracy: accuracy(50_000, 0.9) });
    for (const stepElapsedMs of [0, 120_000]) {
      const at = (window: WindowStats) =>
        decideStep({
          stats: window,
          policy: policy({ maxStepDurationMs: 60_000, onInconclusive: 'hold' }),
          steps: [50, 100],
          stepElapsedMs,
        });
      // A decided step is not inconclusive, however long it took.
      expect(at(failing)).toMatchObject({ action: 'rollback', inconclusive: false });
      expect(at(passing)).toMatchObject({ action: 'advance', inconclusive: false });
    }
  });

  it('without maxStepDuration an undecided step waits however long it runs', () => {
    const step = decideStep({
      stats: undecided,
      policy: policy({ maxStepDurationMs: null, onInconclusive: 'rollback' }),
      steps: [50, 100],
      stepElapsedMs: 365 * 86_400_000,
    });
    expect(step).toMatchObject({ action: 'wait', inconclusive: false });
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
