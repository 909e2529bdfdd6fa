/**
 * Rollout guards: candidate vs live over the current step's window → pass,
 * fail (with the guard and its numbers) or wait (not enough data yet). Pure.
 */
import { twoProportionZTest } from '../../compare/statistics.js';

export interface GuardConfig {
  /** Fail when the candidate's error rate exceeds live's by more than this many points. */
  errorRate?: { maxIncreasePoints: number; minSamples?: number };
  /** Fail when the candidate's p95 latency exceeds live's by more than this factor. */
  latencyP95?: { maxRatio: number; minSamples?: number };
  /** Fail when the candidate disagrees with live on more than this % of shadowed requests. */
  shadowDisagreement?: { maxPercent: number; minSamples?: number };
  /** Fail when the candidate's feedback accuracy is lower than live's with p < `alpha`. */
  accuracy?: { alpha?: number; minSamples?: number };
}

export const DEFAULT_MIN_SAMPLES = 30;

export interface VersionWindow {
  requests: number;
  errors: number;
  p95Ms: number | null;
  accuracy: { n: number; correct: number } | null;
}

export interface WindowStats {
  live: VersionWindow;
  candidate: VersionWindow;
  /** Shadowed pairs between the two versions in the window. */
  shadow: { pairs: number; same: number } | null;
}

export type GuardName = keyof GuardConfig;

export interface GuardReading {
  guard: GuardName;
  status: 'pass' | 'fail' | 'insufficient';
  /** The numbers behind the status, for the audit log and GET /control/:model. */
  live: number | null;
  candidate: number | null;
  limit: number;
  samples: { live: number; candidate: number };
  detail: string;
}

export interface GuardDecision {
  decision: 'pass' | 'fail' | 'wait';
  readings: GuardReading[];
  tripped: GuardReading[];
}

const rate = (errors: number, n: number) => (n === 0 ? 0 : errors / n);
const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;

export function evaluateGuards(stats: WindowStats, guards: GuardConfig): GuardDecision {
  const readings: GuardReading[] = [];
  const { live, candidate } = stats;

  if (guards.errorRate) {
    const { maxIncreasePoints, minSamples = DEFAULT_MIN_SAMPLES } = guards.errorRate;
    const samples = { live: live.requests, candidate: candidate.requests };
    const liveRate = rate(live.errors, live.requests);
    const candidateRate = rate(candidate.errors, candidate.requests);
    const enough = samples.live >= minSamples && samples.candidate >= minSamples;
    const increase = (candidateRate - liveRate) * 100;
    readings.push({
      guard: 'errorRate',
      status: !enough ? 'insufficient' : increase > maxIncreasePoints ? 'fail' : 'pass',
      live: round(liveRate),
      candidate: round(candidateRate),
      limit: maxIncreasePoints,
      samples,
      detail: `error rate ${(candidateRate * 100).toFixed(2)}% vs live ${(liveRate * 100).toFixed(2)}% (+${increase.toFixed(2)} points, limit +${maxIncreasePoints})`,
    });
  }

  if (guards.latencyP95) {
    const { maxRatio, minSamples = DEFAULT_MIN_SAMPLES } = guards.latencyP95;
    const samples = {
      live: live.requests - live.errors,
      candidate: candidate.requests - candidate.errors,
    };
    const enough =
      samples.live >= minSamples &&
      samples.candidate >= minSamples &&
      live.p95Ms !== null &&
      candidate.p95Ms !== null;
    const ratio = enough ? (candidate.p95Ms as number) / (live.p95Ms as number) : null;
    readings.push({
      guard: 'latencyP95',
      status: ratio === null ? 'insufficient' : ratio > maxRatio ? 'fail' : 'pass',
      live: live.p95Ms,
      candidate: candidate.p95Ms,
      limit: maxRatio,
      samples,
      detail:
        ratio === null
          ? 'p95 latency: not enough successful requests yet'
          : `p95 latency ${candidate.p95Ms?.toFixed(3)} ms vs live ${live.p95Ms?.toFixed(3)} ms (×${ratio.toFixed(2)}, limit ×${maxRatio})`,
    });
  }

  if (guards.shadowDisagreement) {
    const { maxPercent, minSamples = DEFAULT_MIN_SAMPLES } = guards.shadowDisagreement;
    const pairs = stats.shadow?.pairs ?? 0;
    const disagreement = pairs === 0 ? 0 : (pairs - (stats.shadow?.same ?? 0)) / pairs;
    const enough = pairs >= minSamples;
    readings.push({
      guard: 'shadowDisagreement',
      status: !enough ? 'insufficient' : disagreement * 100 > maxPercent ? 'fail' : 'pass',
      live: null,
      candidate: round(disagreement),
      limit: maxPercent,
      samples: { live: pairs, candidate: pairs },
      detail: `disagrees with live on ${(disagreement * 100).toFixed(1)}% of ${pairs} shadowed requests (limit ${maxPercent}%)`,
    });
  }

  if (guards.accuracy) {
    const { alpha = 0.05, minSamples = DEFAULT_MIN_SAMPLES } = guards.accuracy;
    const a = live.accuracy;
    const b = candidate.accuracy;
    const samples = { live: a?.n ?? 0, candidate: b?.n ?? 0 };
    const enough = samples.live >= minSamples && samples.candidate >= minSamples;
    const test = enough && a && b ? twoProportionZTest(a.correct, a.n, b.correct, b.n) : null;
    const worse = test !== null && test.difference < 0 && test.pValue < alpha;
    readings.push({
      guard: 'accuracy',
      status: !enough ? 'insufficient' : worse ? 'fail' : 'pass',
      live: a && a.n > 0 ? round(a.correct / a.n) : null,
      candidate: b && b.n > 0 ? round(b.correct / b.n) : null,
      limit: alpha,
      samples,
      detail: test
        ? `accuracy ${(100 * (b?.correct ?? 0)) / (b?.n || 1)}% vs live ${(100 * (a?.correct ?? 0)) / (a?.n || 1)}% (p = ${test.pValue.toPrecision(3)}, fails below ${alpha} when lower)`
        : 'accuracy: not enough feedback yet',
    });
  }

  const tripped = readings.filter((r) => r.status === 'fail');
  const waiting = readings.some((r) => r.status === 'insufficient');
  return { decision: tripped.length > 0 ? 'fail' : waiting ? 'wait' : 'pass', readings, tripped };
}
