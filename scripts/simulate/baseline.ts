/**
 * BASELINE ONLY: the guard rules modelgate used before confidence sequences, copied
 * here so `npm run simulate` can show what they did. Nothing in src/ uses this.
 * errorRate: fail when candidate − live error rate > maxIncreasePoints points;
 * accuracy: fail when a two-proportion z-test finds the candidate lower at p < alpha;
 * both pass once each arm has minSamples (30) and they do not fail.
 */
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';

export const OLD_MIN_SAMPLES = 30;

export type OldDecision = 'pass' | 'fail' | 'wait';

export function oldErrorRateRule(
  live: { n: number; events: number },
  candidate: { n: number; events: number },
  maxIncreasePoints: number,
): OldDecision {
  if (live.n < OLD_MIN_SAMPLES || candidate.n < OLD_MIN_SAMPLES) return 'wait';
  const increase = (candidate.events / candidate.n - live.events / live.n) * 100;
  return increase > maxIncreasePoints ? 'fail' : 'pass';
}

export function oldAccuracyRule(
  live: { n: number; events: number },
  candidate: { n: number; events: number },
  alpha = 0.05,
): OldDecision {
  if (live.n < OLD_MIN_SAMPLES || candidate.n < OLD_MIN_SAMPLES) return 'wait';
  const p1 = live.events / live.n;
  const p2 = candidate.events / candidate.n;
  const pooled = (live.events + candidate.events) / (live.n + candidate.n);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / live.n + 1 / candidate.n));
  if (se === 0) return 'pass';
  const z = (p2 - p1) / se;
  const pValue = 2 * (1 - normalCdf(Math.abs(z), 0, 1));
  return p2 < p1 && pValue < alpha ? 'fail' : 'pass';
}
