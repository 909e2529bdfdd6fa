/** Whether this request is mirrored to the shadow version. */

/**
 * True for `percent`% of calls (0–100, fractions allowed). `random` returns
 * [0, 1); 0 never shadows and 100 always does, whatever `random` returns.
 */
export function shouldShadow(percent: number, random: () => number): boolean {
  if (!(percent > 0)) return false;
  if (percent >= 100) return true;
  return random() * 100 < percent;
}
