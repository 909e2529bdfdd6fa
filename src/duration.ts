const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/**
 * A duration as people type it — `1500ms`, `30s`, `2m`, `1h`, `7d` — in ms; undefined
 * if `value` is not one. The one parser for rollout intervals and compare windows, so
 * both accept the same units.
 */
export function parseDuration(value: string): number | undefined {
  const match = DURATION.exec(value.trim());
  if (!match) return undefined;
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
}

/**
 * A long duration for people to read, in the units parseDuration takes: whole days as
 * `7d`, anything else in hours to two decimals (`36h`, `1.5h`).
 */
export function formatDuration(ms: number): string {
  const days = ms / (UNIT_MS.d as number);
  return Number.isInteger(days) ? `${days}d` : `${+(ms / (UNIT_MS.h as number)).toFixed(2)}h`;
}
