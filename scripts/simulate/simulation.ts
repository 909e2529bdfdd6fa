/**
 * The Monte Carlo behind `npm run simulate` (method and results: docs/statistics.md).
 * Each simulated rollout walks the README's steps (5/25/50/100 %); every interval it
 * draws the interval's labelled predictions per arm (binomial draws for rates, normal
 * draws for values and a regressor's errors, rounded to integers in the maeRounded
 * cells), adds them to the
 * step's window and asks the REAL decision function of the rollout service
 * (decideStep, src/control/rollout/decision.ts) whether to advance, roll back or wait.
 * The same windows are also judged by a copy of the old fixed-threshold rules
 * (baseline.ts), for comparison. Pure apart from the seeded generator.
 */
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import { decideStep, type RolloutPolicy } from '../../src/control/rollout/decision.js';
import type { GuardConfig, VersionWindow, WindowStats } from '../../src/control/rollout/guards.js';
import { type OldDecision, oldAccuracyRule, oldErrorRateRule } from './baseline.js';
import { createRandom, type Random } from './random.js';

export const STEPS = [5, 25, 50, 100] as const;
export const ALPHA = 0.05;
export const MAX_EVALUATIONS = 3600;
export const PER_INTERVAL = [20, 200, 2000] as const;
const INTERVAL_MS = 60_000;

export type MetricName = 'accuracy' | 'errorRate' | 'value' | 'mae' | 'rmse' | 'maeRounded';

export interface Metric {
  name: MetricName;
  /** What the guard is given (the margin in the metric's own unit). */
  guards: GuardConfig;
  margin: number;
  /** Live's true parameter: a rate, a mean (value), or a regressor's MAE or RMSE. */
  live: number;
  /** +1 when a larger parameter is worse (error rate), −1 when it is better. */
  worseSign: 1 | -1;
  /** The old rule for the metric, if there was one. */
  baseline: ((live: Arm, candidate: Arm) => OldDecision) | null;
  /** Variance of one outcome at parameter x (for the fixed-horizon sample size). */
  variance: (x: number) => number;
  describe: (x: number) => string;
  /** The scenarios simulated, when not SCENARIOS (a rate near 0 cannot be "better by a margin"). */
  scenarios?: Scenario[];
}

/** Running sums of one arm in one step's window. */
interface Arm {
  n: number;
  events: number;
  /** Numeric outcomes: mean and sum of squared deviations (Chan et al.'s merge). */
  mean: number;
  m2: number;
  /** A regressor's errors: |e| and e², each as a running mean and sum of squared deviations. */
  absolute: Moments;
  squared: Moments;
}

interface Moments {
  mean: number;
  m2: number;
}

const VALUE_SD = 5;
/** Live's prediction errors are N(0, ERROR_SD²): MAE = ERROR_SD·√(2/π), RMSE = ERROR_SD. */
const ERROR_SD = 5;
const HALF_NORMAL_MEAN = Math.sqrt(2 / Math.PI);

/**
 * E|round(sZ)| for Z ~ N(0, 1): Σ_k≥1 P(|sZ| ≥ k − ½), and E[round(sZ)²] = Σ_k≥1 (2k − 1)·P(|sZ| ≥ k − ½).
 * The terms vanish long before k = 40 for the sds simulated (below 1).
 */
function roundedMoments(sd: number): { mean: number; square: number } {
  let mean = 0;
  let square = 0;
  for (let k = 1; k <= 40; k++) {
    const beyond = 2 * (1 - normalCdf(k - 0.5, 0, sd));
    mean += beyond;
    square += (2 * k - 1) * beyond;
  }
  return { mean, square };
}

const roundedSds = new Map<number, number>();
/** The sd of normal errors that, rounded to integers, have mean absolute value x (bisection). */
function roundedErrorSd(x: number): number {
  const known = roundedSds.get(x);
  if (known !== undefined) return known;
  let low = 1e-3;
  let high = 10;
  for (let i = 0; i < 100; i++) {
    const mid = (low + high) / 2;
    if (roundedMoments(mid).mean < x) low = mid;
    else high = mid;
  }
  roundedSds.set(x, high);
  return high;
}

/** The sd of normal errors with the given MAE or RMSE. */
const errorSd = (metric: MetricName, x: number) =>
  metric === 'mae' ? x / HALF_NORMAL_MEAN : metric === 'maeRounded' ? roundedErrorSd(x) : x;

export const METRICS: Record<MetricName, Metric> = {
  accuracy: {
    name: 'accuracy',
    guards: { accuracy: { margin: 0.02 } },
    margin: 0.02,
    live: 0.9,
    worseSign: -1,
    baseline: (live, candidate) => oldAccuracyRule(live, candidate, 0.05),
    variance: (p) => p * (1 - p),
    describe: (p) => `${(p * 100).toFixed(1)} % accurate`,
  },
  errorRate: {
    name: 'errorRate',
    guards: { errorRate: { margin: 0.01 } },
    margin: 0.01,
    live: 0.005,
    worseSign: 1,
    baseline: (live, candidate) => oldErrorRateRule(live, candidate, 1),
    variance: (p) => p * (1 - p),
    describe: (p) => `${(p * 100).toFixed(1)} % errors`,
  },
  value: {
    name: 'value',
    guards: { value: { margin: 0.5, better: 'higher' } },
    margin: 0.5,
    live: 10,
    worseSign: -1,
    baseline: null,
    variance: () => VALUE_SD * VALUE_SD,
    describe: (m) => `mean ${m.toFixed(1)} (sd ${VALUE_SD})`,
  },
  mae: {
    name: 'mae',
    guards: { mae: { margin: 0.5 } },
    margin: 0.5,
    live: ERROR_SD * HALF_NORMAL_MEAN,
    worseSign: 1,
    baseline: null,
    // |e| of N(0, σ²) errors has variance σ²(1 − 2/π), and σ = MAE / √(2/π).
    variance: (x) => x * x * (Math.PI / 2 - 1),
    describe: (x) => `MAE ${x.toFixed(2)} (errors sd ${errorSd('mae', x).toFixed(2)})`,
  },
  rmse: {
    name: 'rmse',
    guards: { rmse: { margin: 0.5 } },
    margin: 0.5,
    live: ERROR_SD,
    worseSign: 1,
    baseline: null,
    // e² has variance 2σ⁴; through the square root (delta method) the RMSE's is σ²/2 per outcome.
    variance: (x) => (x * x) / 2,
    describe: (x) => `RMSE ${x.toFixed(2)} (errors sd ${x.toFixed(2)})`,
  },
  // A regressor of integer targets whose errors are integers: most are exactly 0, so an
  // arm's first 30 errors are often all alike (sample variance 0). Live's MAE 0.02 (2 %
  // of predictions off by one), margin 0.05.
  maeRounded: {
    name: 'maeRounded',
    guards: { mae: { margin: 0.05 } },
    margin: 0.05,
    live: 0.02,
    worseSign: 1,
    baseline: null,
    variance: (x) => {
      const { mean, square } = roundedMoments(roundedErrorSd(x));
      return square - mean * mean;
    },
    describe: (x) => `MAE ${x.toFixed(2)} (integer errors)`,
    scenarios: [
      { name: 'identical', worseBy: 0 },
      { name: 'worse by 1× margin', worseBy: 1 },
      { name: 'worse by 1.6× margin', worseBy: 1.6 },
      { name: 'worse by 3× margin', worseBy: 3 },
    ],
  },
};

export interface Scenario {
  name: string;
  /** Candidate − live in margins, in the worse direction (negative: better). */
  worseBy: number;
}

export const SCENARIOS: Scenario[] = [
  { name: 'identical', worseBy: 0 },
  { name: 'worse by 1× margin', worseBy: 1 },
  { name: 'worse by 2× margin', worseBy: 2 },
  { name: 'worse by 3× margin', worseBy: 3 },
  { name: 'better by 1× margin', worseBy: -1 },
];

export function candidateParameter(metric: Metric, scenario: Scenario): number {
  const x = metric.live + metric.worseSign * scenario.worseBy * metric.margin;
  // A rate cannot go below 0: "better" than 0.5 % errors by 1 point is 0 %.
  return metric.name === 'accuracy' || metric.name === 'errorRate'
    ? Math.min(1, Math.max(0, x))
    : x;
}

export interface Outcomes {
  rolledBack: number;
  promoted: number;
  waiting: number;
  /** Median labelled predictions (both arms, whole rollout) when it was decided; null if never. */
  medianSamplesToRollback: number | null;
  medianSamplesToPromote: number | null;
  /**
   * Rollouts whose first step (5 %) passed. Each step is a fresh window judged at the
   * step's alpha, so for a candidate worse by more than the margin this is one guard's
   * false-pass rate at one step (promotion needs three passes in a row, so it is rarer).
   */
  firstStepPassed: number;
}

export interface CellResult {
  metric: MetricName;
  scenario: string;
  live: string;
  candidate: string;
  perInterval: number;
  rollouts: number;
  sequential: Outcomes;
  /** The old fixed-threshold rules on the same draws (null: no old rule for the metric). */
  baseline: Outcomes | null;
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

function outcomes(results: RolloutResult[]): Outcomes {
  const count = (end: string) => results.filter((r) => r.end === end).length;
  const samples = (end: string) => results.filter((r) => r.end === end).map((r) => r.samples);
  return {
    rolledBack: count('rollback') / results.length,
    promoted: count('promote') / results.length,
    waiting: count('wait') / results.length,
    medianSamplesToRollback: median(samples('rollback')),
    medianSamplesToPromote: median(samples('promote')),
    firstStepPassed: results.filter((r) => r.firstStepPassed).length / results.length,
  };
}

const emptyArm = (): Arm => ({
  n: 0,
  events: 0,
  mean: 0,
  m2: 0,
  absolute: { mean: 0, m2: 0 },
  squared: { mean: 0, m2: 0 },
});

/** Welford's update of a running mean and sum of squared deviations with the n-th value. */
function addTo(moments: Moments, x: number, n: number) {
  const delta = x - moments.mean;
  moments.mean += delta / n;
  moments.m2 += delta * (x - moments.mean);
}

/**
 * Adds k outcomes to an arm: `events` successes; (value) k normal draws summarised exactly;
 * (mae, rmse) k normal prediction errors drawn one by one, as |e| and e² are not normal.
 */
function draw(random: Random, metric: Metric, arm: Arm, k: number, parameter: number) {
  if (k === 0) return;
  if (metric.name === 'mae' || metric.name === 'rmse' || metric.name === 'maeRounded') {
    const sd = errorSd(metric.name, parameter);
    const rounded = metric.name === 'maeRounded';
    for (let i = 0; i < k; i++) {
      const e = rounded ? Math.round(sd * random.normal()) : sd * random.normal();
      arm.n += 1;
      addTo(arm.absolute, Math.abs(e), arm.n);
      addTo(arm.squared, e * e, arm.n);
    }
    return;
  }
  if (metric.name !== 'value') {
    arm.events += random.binomial(k, parameter);
    arm.n += k;
    return;
  }
  // The batch mean is N(μ, σ²/k) and its squared deviations σ²·χ²(k − 1), independently.
  const batchMean = parameter + (VALUE_SD / Math.sqrt(k)) * random.normal();
  const batchM2 = k > 1 ? VALUE_SD * VALUE_SD * random.chiSquare(k - 1) : 0;
  const n = arm.n + k;
  const delta = batchMean - arm.mean;
  arm.m2 += batchM2 + (delta * delta * arm.n * k) / n;
  arm.mean += (delta * k) / n;
  arm.n = n;
}

const blankWindow = (): VersionWindow => ({
  requests: 0,
  errors: 0,
  latency: [],
  accuracy: null,
  value: null,
  predictionError: null,
});

/** Writes an arm's sums into the window the guards read (reused: the hot loop allocates little). */
function fillWindow(metric: Metric, arm: Arm, window: VersionWindow) {
  window.requests = arm.n;
  if (metric.name === 'accuracy') window.accuracy = { n: arm.n, correct: arm.events };
  else if (metric.name === 'errorRate') window.errors = arm.events;
  else if (metric.name === 'mae' || metric.name === 'rmse' || metric.name === 'maeRounded') {
    const summary = (m: Moments) => ({ n: arm.n, mean: m.mean, variance: m.m2 / (arm.n - 1) });
    window.predictionError =
      arm.n > 1 ? { absolute: summary(arm.absolute), squared: summary(arm.squared) } : null;
  } else {
    window.value = arm.n > 1 ? { n: arm.n, mean: arm.mean, variance: arm.m2 / (arm.n - 1) } : null;
  }
}

interface RolloutResult {
  end: 'rollback' | 'promote' | 'wait';
  samples: number;
  firstStepPassed: boolean;
}

type Judge = (live: Arm, candidate: Arm, elapsedMs: number) => 'advance' | 'rollback' | 'wait';

/** One rollout: steps, interval by interval, until a decision or MAX_EVALUATIONS. */
function rollout(
  random: Random,
  metric: Metric,
  candidateParam: number,
  perInterval: number,
  judge: Judge,
  maxEvaluations: number,
): RolloutResult {
  let stepIndex = 0;
  let live = emptyArm();
  let candidate = emptyArm();
  let samples = 0;
  let stepEvaluations = 0;
  for (let evaluation = 0; evaluation < maxEvaluations; evaluation++) {
    const percent = STEPS[stepIndex] as number;
    const toCandidate = random.binomial(perInterval, percent / 100);
    draw(random, metric, candidate, toCandidate, candidateParam);
    draw(random, metric, live, perInterval - toCandidate, metric.live);
    samples += perInterval;
    stepEvaluations += 1;
    const action = judge(live, candidate, stepEvaluations * INTERVAL_MS);
    const firstStepPassed = stepIndex > 0 || action === 'advance';
    if (action === 'rollback') return { end: 'rollback', samples, firstStepPassed };
    if (action === 'advance') {
      stepIndex += 1;
      if ((STEPS[stepIndex] as number) >= 100) return { end: 'promote', samples, firstStepPassed };
      // A new step is a new window (decision.ts): its sequences start afresh.
      live = emptyArm();
      candidate = emptyArm();
      stepEvaluations = 0;
    }
  }
  return { end: 'wait', samples, firstStepPassed: stepIndex > 0 };
}

export interface CellOptions {
  metric: MetricName;
  scenario: Scenario;
  perInterval: number;
  rollouts: number;
  seed: number;
  maxEvaluations?: number;
  /** Also run the old rules (default true). */
  baseline?: boolean;
}

export function simulateCell(options: CellOptions): CellResult {
  const metric = METRICS[options.metric];
  const candidateParam = candidateParameter(metric, options.scenario);
  const maxEvaluations = options.maxEvaluations ?? MAX_EVALUATIONS;
  const policy: RolloutPolicy = {
    alpha: ALPHA,
    guards: metric.guards,
    maxStepDurationMs: null,
    onInconclusive: 'hold',
  };
  const stats: WindowStats = { live: blankWindow(), candidate: blankWindow(), shadow: null };
  const sequentialJudge: Judge = (live, candidate, elapsedMs) => {
    fillWindow(metric, live, stats.live);
    fillWindow(metric, candidate, stats.candidate);
    return decideStep({ stats, policy, steps: STEPS, stepElapsedMs: elapsedMs }).action;
  };
  const random = createRandom(options.seed);
  const sequential = Array.from({ length: options.rollouts }, () =>
    rollout(random, metric, candidateParam, options.perInterval, sequentialJudge, maxEvaluations),
  );
  let baseline: Outcomes | null = null;
  const oldRule = metric.baseline;
  if (oldRule && options.baseline !== false) {
    const oldJudge: Judge = (live, candidate) => {
      const decision = oldRule(live, candidate);
      return decision === 'fail' ? 'rollback' : decision === 'pass' ? 'advance' : 'wait';
    };
    const baselineRandom = createRandom(options.seed ^ 0x9e3779b9);
    baseline = outcomes(
      Array.from({ length: options.rollouts }, () =>
        rollout(
          baselineRandom,
          metric,
          candidateParam,
          options.perInterval,
          oldJudge,
          maxEvaluations,
        ),
      ),
    );
  }
  return {
    metric: metric.name,
    scenario: options.scenario.name,
    live: metric.describe(metric.live),
    candidate: metric.describe(candidateParam),
    perInterval: options.perInterval,
    rollouts: options.rollouts,
    sequential: outcomes(sequential),
    baseline,
  };
}

/**
 * Labelled predictions a fixed-horizon one-sided z-test needs to detect the scenario's
 * difference at `alpha` with `power`, with the first step's allocation (5 % candidate):
 * N = (z₁₋α + z_power)² · (σ²_cand / 0.05 + σ²_live / 0.95) / Δ². It must fix N in
 * advance and may look only once.
 */
export function fixedHorizonSamples(
  metricName: MetricName,
  scenario: Scenario,
  alpha: number,
  power: number,
): number {
  const metric = METRICS[metricName];
  const candidate = candidateParameter(metric, scenario);
  const delta = Math.abs(candidate - metric.live);
  const share = (STEPS[0] as number) / 100;
  const z = normalQuantile(1 - alpha, 0, 1) + normalQuantile(power, 0, 1);
  const spread = metric.variance(candidate) / share + metric.variance(metric.live) / (1 - share);
  return Math.ceil((z * z * spread) / (delta * delta));
}

/** A seed per cell, so cells are independent and each can be rerun alone. */
export function cellSeed(
  seed: number,
  metricIndex: number,
  scenarioIndex: number,
  trafficIndex: number,
) {
  return (
    (Math.imul(seed + 1, 0x85ebca6b) ^
      Math.imul(metricIndex * 97 + scenarioIndex * 13 + trafficIndex + 1, 0xc2b2ae35)) >>>
    0
  );
}
