/**
 * Rollout guards as non-inferiority tests on anytime-valid confidence sequences
 * (src/stats/confidence-sequence.ts; method and assumptions in docs/statistics.md).
 *
 * Each guard holds an interval for one quantity — candidate − live for accuracy, error
 * rate, numeric outcomes and a regressor's MAE and RMSE; candidate / live for p95 latency;
 * the candidate's share of disagreement with live for shadows — valid however often it is
 * looked at:
 *   fail — the interval shows the candidate worse than live (all of it on the worse side
 *          of 0, or above the limit for latency and disagreement): roll back;
 *   pass — the interval shows it no worse than the margin allows (all of it on the better
 *          side of −margin / below the limit): non-inferior;
 *   wait — neither yet.
 * The step's alpha is split evenly across the configured guards (Bonferroni); each guard's
 * interval is two-sided at its share, so both directions are covered. Pure.
 */
import { pct, points as signedPoints } from '../../compare/number-format.js';
import {
  type Bounds,
  bernoulliSequence,
  differenceAbove,
  differenceBelow,
  differenceOf,
  type MeanSummary,
  meanSequence,
  type QuantileBucket,
  quantileSequence,
  ratioOf,
} from '../../stats/confidence-sequence.js';

export interface GuardConfig {
  /** Feedback accuracy: non-inferior when candidate − live > −margin (0.02 = 2 points). */
  accuracy?: { margin: number };
  /** Error rate: non-inferior when candidate − live < +margin (0.01 = 1 point). */
  errorRate?: { margin: number };
  /** p95 latency of successful requests: fails when candidate / live is surely above maxRatio. */
  latencyP95?: { maxRatio: number };
  /** Shadow disagreement with live: fails when surely above maxPercent % of shadowed requests. */
  shadowDisagreement?: { maxPercent: number };
  /** Mean numeric feedback `value`: non-inferior within `margin` in the `better` direction. */
  value?: { margin: number; better: 'higher' | 'lower' };
  /** A regressor's mean absolute error against numeric feedback: non-inferior when candidate − live < margin. */
  mae?: { margin: number };
  /** A regressor's root mean squared error against numeric feedback: non-inferior when candidate − live < margin. */
  rmse?: { margin: number };
}

export type GuardName = keyof GuardConfig;

/**
 * The numeric-outcome sequence is asymptotic: below this many values per arm it can
 * undercover (docs/statistics.md), so the value, mae and rmse guards wait for them.
 */
export const VALUE_BURN_IN = 30;

export interface VersionWindow {
  requests: number;
  errors: number;
  /** Latencies of successful requests, buckets in increasing order, edges in ms. */
  latency: QuantileBucket[];
  accuracy: { n: number; correct: number } | null;
  /** Numeric feedback (`value`) of the window's predictions. */
  value: MeanSummary | null;
  /**
   * A regressor's errors |predicted − feedback value| (`absolute`) and their squares
   * (`squared`), summarised over the window's predictions with a feedback value.
   */
  predictionError: { absolute: MeanSummary; squared: MeanSummary } | null;
}

export interface WindowStats {
  live: VersionWindow;
  candidate: VersionWindow;
  /** Shadowed pairs between the two versions in the window. */
  shadow: { pairs: number; same: number } | null;
}

export interface GuardReading {
  guard: GuardName;
  status: 'pass' | 'fail' | 'wait';
  /** Point estimates, for people: live and candidate (their rates, means or p95 in ms). */
  live: number | null;
  candidate: number | null;
  /**
   * The always-valid interval the status is read from: candidate − live (accuracy,
   * errorRate, value, mae, rmse), candidate / live (latencyP95), disagreement share
   * (shadowDisagreement).
   */
  interval: Bounds;
  /** The margin or limit the interval is judged against, in the guard's own unit. */
  limit: number;
  /** This guard's share of the step's alpha. */
  alpha: number;
  samples: { live: number; candidate: number };
  detail: string;
}

export interface GuardDecision {
  decision: 'pass' | 'fail' | 'wait';
  readings: GuardReading[];
  tripped: GuardReading[];
}

const round = (x: number | null, digits = 4) =>
  x === null || !Number.isFinite(x) ? x : Math.round(x * 10 ** digits) / 10 ** digits;
/** Guard details show rate differences to a hundredth of a point: margins are that fine. */
const points = (x: number) => signedPoints(x, 2);
const span = (b: Bounds, show: (x: number) => string) => `[${show(b.lower)}, ${show(b.upper)}]`;

/** Candidate − live of two Bernoulli rates, each arm's sequence at alpha/2. */
function rateDifference(
  live: { successes: number; n: number },
  candidate: { successes: number; n: number },
  alpha: number,
): Bounds {
  return differenceOf(
    bernoulliSequence(candidate.successes, candidate.n, alpha / 2),
    bernoulliSequence(live.successes, live.n, alpha / 2),
  );
}

const rate = (successes: number, n: number) => (n === 0 ? null : successes / n);

/**
 * A reading whose interval and detail are worked out when first read. The service
 * stores and audits every reading (JSON.stringify goes through toJSON); the simulation
 * reads none, and the rate guards decide without them (differenceAbove/Below): solving
 * all four ends at every one of its hundreds of millions of evaluations would not fit.
 */
class LazyReading implements GuardReading {
  #interval: Bounds | undefined;
  constructor(
    readonly guard: GuardName,
    readonly status: GuardReading['status'],
    readonly live: number | null,
    readonly candidate: number | null,
    readonly limit: number,
    readonly alpha: number,
    readonly samples: { live: number; candidate: number },
    private readonly computeInterval: () => Bounds,
    private readonly describe: (interval: Bounds) => string,
  ) {}
  get interval(): Bounds {
    this.#interval ??= this.computeInterval();
    return this.#interval;
  }
  get detail(): string {
    return this.describe(this.interval);
  }
  toJSON(): GuardReading {
    const { guard, status, live, candidate, interval, limit, alpha, samples, detail } = this;
    return { guard, status, live, candidate, interval, limit, alpha, samples, detail };
  }
}

function reading(
  fields: Omit<GuardReading, 'interval' | 'detail'>,
  interval: () => Bounds,
  detail: (interval: Bounds) => string,
): GuardReading {
  const { guard, status, live, candidate, limit, alpha, samples } = fields;
  return new LazyReading(guard, status, live, candidate, limit, alpha, samples, interval, detail);
}

type Judge = (stats: WindowStats, alpha: number) => GuardReading;

const EVERYTHING: Bounds = { lower: Number.NEGATIVE_INFINITY, upper: Number.POSITIVE_INFINITY };

/**
 * One arm's asymptotic CS for a mean, or everything until it can be read: the burn-in
 * reached and a sample variance above 0. The sequence plugs σ̂ in for σ (valid as n grows
 * for σ > 0); when every value so far is the same — integer or rounded targets, 0/1
 * outcomes — σ̂ = 0 gives a point, and the guard would decide on it as if certain. An arm
 * that has not yet shown any spread has shown nothing about how far its mean may be
 * from what it has seen, so the guard waits (maxStepDuration and onInconclusive bound the
 * wait, as for any inconclusive step). docs/statistics.md measures it (npm run simulate,
 * the maeRounded cells).
 */
const burnedInSequence = (summary: MeanSummary | null | undefined, alpha: number): Bounds =>
  summary && summary.n >= VALUE_BURN_IN && summary.variance > 0
    ? meanSequence(summary, alpha)
    : EVERYTHING;

const showNumber = (x: number) => (Number.isFinite(x) ? x.toPrecision(4) : String(x));

/**
 * The RMSE's CS from the MSE's: the square root is increasing, so the RMSE lies in
 * [√lower, √upper] exactly when the MSE lies in [lower, upper] (a mean of squares is ≥ 0).
 */
const rootOf = (mse: Bounds): Bounds => ({
  lower: Math.sqrt(Math.max(0, mse.lower)),
  upper: Math.sqrt(mse.upper),
});

/**
 * A lower-is-better error of a regressor (mae, rmse): candidate − live of two arms' CSs at
 * alpha/2 each; fails when the candidate's error is surely larger, passes when surely
 * less than `margin` larger.
 */
function errorJudge(
  guard: 'mae' | 'rmse',
  margin: number,
  armSequence: (window: VersionWindow, alpha: number) => Bounds,
  estimate: (window: VersionWindow) => number | null,
): Judge {
  return ({ live, candidate }, alpha) => {
    const interval = differenceOf(armSequence(candidate, alpha / 2), armSequence(live, alpha / 2));
    const status = interval.lower > 0 ? 'fail' : interval.upper < margin ? 'pass' : 'wait';
    return reading(
      {
        guard,
        status,
        live: round(estimate(live)),
        candidate: round(estimate(candidate)),
        limit: margin,
        alpha,
        samples: {
          live: live.predictionError?.absolute.n ?? 0,
          candidate: candidate.predictionError?.absolute.n ?? 0,
        },
      },
      () => interval,
      (b) =>
        `${guard.toUpperCase()} difference ${span(b, showNumber)} (fails above 0, passes below ${margin})`,
    );
  };
}

function judges(guards: GuardConfig): Judge[] {
  const list: Judge[] = [];
  if (guards.errorRate) {
    const { margin } = guards.errorRate;
    list.push(({ live, candidate }, alpha) => {
      const l = { successes: live.errors, n: live.requests };
      const c = { successes: candidate.errors, n: candidate.requests };
      const status = differenceAbove(c, l, 0, alpha)
        ? 'fail'
        : differenceBelow(c, l, margin, alpha)
          ? 'pass'
          : 'wait';
      return reading(
        {
          guard: 'errorRate',
          status,
          live: round(rate(live.errors, live.requests)),
          candidate: round(rate(candidate.errors, candidate.requests)),
          limit: margin,
          alpha,
          samples: { live: live.requests, candidate: candidate.requests },
        },
        () => rateDifference(l, c, alpha),
        (interval) =>
          `error rate difference ${span(interval, points)} points (fails above 0, passes below ${points(margin)})`,
      );
    });
  }
  if (guards.latencyP95) {
    const { maxRatio } = guards.latencyP95;
    list.push(({ live, candidate }, alpha) => {
      const l = quantileSequence(live.latency, 0.95, alpha / 2);
      const c = quantileSequence(candidate.latency, 0.95, alpha / 2);
      const interval = ratioOf(c, l);
      const status =
        interval.lower > maxRatio ? 'fail' : interval.upper <= maxRatio ? 'pass' : 'wait';
      const count = (w: VersionWindow) => w.latency.reduce((sum, b) => sum + b.count, 0);
      const mid = (b: Bounds) =>
        Number.isFinite(b.upper) && b.lower > 0 ? Math.sqrt(b.lower * b.upper) : null;
      return {
        guard: 'latencyP95',
        status,
        live: round(mid(l), 3),
        candidate: round(mid(c), 3),
        interval,
        limit: maxRatio,
        alpha,
        samples: { live: count(live), candidate: count(candidate) },
        detail: `p95 latency ratio ${span(interval, (x) => `×${x.toFixed(2)}`)} (fails above ×${maxRatio}, passes within it)`,
      };
    });
  }
  if (guards.shadowDisagreement) {
    const { maxPercent } = guards.shadowDisagreement;
    list.push(({ shadow }, alpha) => {
      const pairs = shadow?.pairs ?? 0;
      const differ = pairs - (shadow?.same ?? 0);
      const interval = bernoulliSequence(differ, pairs, alpha);
      const limit = maxPercent / 100;
      const status = interval.lower > limit ? 'fail' : interval.upper <= limit ? 'pass' : 'wait';
      return {
        guard: 'shadowDisagreement',
        status,
        live: null,
        candidate: round(rate(differ, pairs)),
        interval,
        limit: maxPercent,
        alpha,
        samples: { live: pairs, candidate: pairs },
        detail: `disagrees with live on ${span(interval, (x) => pct(x))} of shadowed requests (${pairs} pairs; fails above ${maxPercent}%)`,
      };
    });
  }
  if (guards.accuracy) {
    const { margin } = guards.accuracy;
    list.push(({ live, candidate }, alpha) => {
      const a = live.accuracy ?? { n: 0, correct: 0 };
      const b = candidate.accuracy ?? { n: 0, correct: 0 };
      const l = { successes: a.correct, n: a.n };
      const c = { successes: b.correct, n: b.n };
      const status = differenceBelow(c, l, 0, alpha)
        ? 'fail'
        : differenceAbove(c, l, -margin, alpha)
          ? 'pass'
          : 'wait';
      return reading(
        {
          guard: 'accuracy',
          status,
          live: round(rate(a.correct, a.n)),
          candidate: round(rate(b.correct, b.n)),
          limit: margin,
          alpha,
          samples: { live: a.n, candidate: b.n },
        },
        () => rateDifference(l, c, alpha),
        (interval) =>
          `accuracy difference ${span(interval, points)} points (fails below 0, passes above ${points(-margin)})`,
      );
    });
  }
  if (guards.value) {
    const { margin, better } = guards.value;
    list.push(({ live, candidate }, alpha) => {
      const interval = differenceOf(
        burnedInSequence(candidate.value, alpha / 2),
        burnedInSequence(live.value, alpha / 2),
      );
      // Oriented so that "worse" is below 0 whichever direction is better.
      const worse = better === 'higher' ? interval.upper < 0 : interval.lower > 0;
      const within = better === 'higher' ? interval.lower > -margin : interval.upper < margin;
      return reading(
        {
          guard: 'value',
          status: worse ? 'fail' : within ? 'pass' : 'wait',
          live: round(live.value?.mean ?? null),
          candidate: round(candidate.value?.mean ?? null),
          limit: margin,
          alpha,
          samples: { live: live.value?.n ?? 0, candidate: candidate.value?.n ?? 0 },
        },
        () => interval,
        (b) =>
          `value difference ${span(b, showNumber)} (${better} is better; passes within ${margin})`,
      );
    });
  }
  if (guards.mae) {
    list.push(
      errorJudge(
        'mae',
        guards.mae.margin,
        (w, alpha) => burnedInSequence(w.predictionError?.absolute, alpha),
        (w) => w.predictionError?.absolute.mean ?? null,
      ),
    );
  }
  if (guards.rmse) {
    // Tested on the MSE's sequences, carried to the RMSE by the square root (rootOf): the
    // compared quantity is √E[e²] of each arm, in the target's own unit.
    list.push(
      errorJudge(
        'rmse',
        guards.rmse.margin,
        (w, alpha) => rootOf(burnedInSequence(w.predictionError?.squared, alpha)),
        (w) => {
          const squared = w.predictionError?.squared;
          return squared ? Math.sqrt(squared.mean) : null;
        },
      ),
    );
  }
  return list;
}

/** Judges every configured guard at `alpha` (the step's), split evenly between them. */
const judgesOf = new WeakMap<GuardConfig, Judge[]>();

export function evaluateGuards(
  stats: WindowStats,
  guards: GuardConfig,
  alpha: number,
): GuardDecision {
  let list = judgesOf.get(guards);
  if (!list) {
    list = judges(guards);
    judgesOf.set(guards, list);
  }
  const readings = list.map((judge) => judge(stats, alpha / list.length));
  const tripped = readings.filter((r) => r.status === 'fail');
  const passed = readings.every((r) => r.status === 'pass');
  return { decision: tripped.length > 0 ? 'fail' : passed ? 'pass' : 'wait', readings, tripped };
}
