import { invalidInput } from '../errors.js';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A point in time as people type it: `1h` / `30m` / `7d` (that long before
 * `now`), an ISO date, or milliseconds since the epoch.
 */
export function parseTimePoint(
  field: string,
  value: string | undefined,
  now: number,
): number | undefined {
  if (value === undefined || value === '') return undefined;
  const relative = /^(\d+(?:\.\d+)?)([smhd])$/.exec(value);
  if (relative) return now - Number(relative[1]) * (UNITS[relative[2] as string] as number);
  if (/^\d+$/.test(value)) return Number(value);
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) {
    throw invalidInput(`${field}: "${value}" is not a time (use 1h, 30m, 7d, an ISO date or ms)`);
  }
  return parsed;
}

export function parseVersionList(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}
