import { parseDuration } from '../duration.js';
import { invalidInput } from '../errors.js';
import { isName } from '../names.js';
import type { DriftBaseline } from './drift-report.js';

/**
 * A point in time as people type it: `1h` / `30m` / `7d` (that long before `now`), an
 * ISO 8601 date or date-time (`2026-12-01`, `2026-12-01T10:00:00Z`; UTC unless it names an
 * offset), or milliseconds since the epoch. Nothing else: Date.parse would read `1 2` as
 * 2001-01-02 and `-5` as 2001-05-01, turning a typo into a window of the whole log.
 */
export function parseTimePoint(
  field: string,
  value: string | undefined,
  now: number,
): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ago = parseDuration(value);
  const ms = ago !== undefined ? now - ago : /^\d+$/.test(value) ? Number(value) : isoTime(value);
  if (ms === undefined) {
    throw invalidInput(
      `${field}: "${shorten(value)}" is not a time: use a duration before now (1h, 30m, 7d), an ISO 8601 date (2026-12-01 or 2026-12-01T10:00:00Z) or ms since 1970${field.endsWith('since') ? ', or split' : ''}`,
    );
  }
  // Beyond what a Date can hold the number is no time at all (400 digits are Infinity),
  // and PostgreSQL would refuse it as a bigint: a 400 here, not a 500 there.
  if (!(Math.abs(ms) <= MAX_TIME_MS)) {
    throw invalidInput(
      `${field}: "${shorten(value)}" is out of range (at most ${MAX_TIME_MS} ms from 1970)`,
    );
  }
  return Math.round(ms);
}

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/** ms of an ISO 8601 date or date-time; undefined for anything else, or a day that is not one (02-30). */
function isoTime(value: string): number | undefined {
  const match = ISO_TIME.exec(value);
  if (!match) return undefined;
  const [y, mo, d, h, mi, s] = match.slice(1, 7).map((part) => Number(part ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Number((match[7] ?? '').padEnd(3, '0').slice(0, 3));
  const at = new Date(Date.UTC(y, mo - 1, d, h, mi, s, ms));
  // Date.UTC rolls 02-30 over to 03-02 and 24:00 to the next day: a time that does not
  // come back as written was not a time.
  const asWritten =
    at.getUTCFullYear() === y &&
    at.getUTCMonth() === mo - 1 &&
    at.getUTCDate() === d &&
    at.getUTCHours() === h &&
    at.getUTCMinutes() === mi &&
    at.getUTCSeconds() === s;
  if (!asWritten) return undefined;
  const zone = match[8] ?? 'Z';
  if (zone === 'Z') return at.getTime();
  const [offsetHours, offsetMinutes] = [Number(zone.slice(1, 3)), Number(zone.slice(4, 6))];
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  const offsetMs = (offsetHours * 60 + offsetMinutes) * 60_000;
  // 10:00+02:00 is 08:00Z.
  return at.getTime() - (zone.startsWith('-') ? -offsetMs : offsetMs);
}

/**
 * The start of a comparison: a time point as above, or `split` for "since the split was
 * last set" — the current experiment, whose counts only grow (what the sequential
 * figures assume). `field` names the parameter in the error.
 */
export function parseSince(
  field: string,
  value: string | undefined,
  now: number,
): { since: number | undefined; fromSplitChange: boolean } {
  if (value === 'split') return { since: undefined, fromSplitChange: true };
  return { since: parseTimePoint(field, value, now), fromSplitChange: false };
}

/** ECMAScript's Date range: 100,000,000 days either side of the epoch. */
export const MAX_TIME_MS = 8.64e15;

const shorten = (value: string) => (value.length > 40 ? `${value.slice(0, 40)}…` : value);

export function parseVersionList(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const versions = value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  for (const version of versions) {
    if (!isName(version)) {
      throw invalidInput(`versions: "${shorten(version)}" is not a version name`);
    }
  }
  return versions;
}

/**
 * The baseline drift is measured against: `training` (model.json `featureStats`) or a
 * window `<since>..<until>` of time points as above (`7d..1d`: last week up to yesterday).
 */
export function parseDriftBaseline(
  value: string | undefined,
  now: number,
): DriftBaseline | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'training') return { kind: 'training' };
  const parts = value.split('..');
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
    throw invalidInput(
      `baseline: "${shorten(value)}" is neither "training" nor a window like 7d..1d (since..until)`,
    );
  }
  const since = parseTimePoint('baseline', parts[0], now) as number;
  const until = parseTimePoint('baseline', parts[1], now) as number;
  if (since >= until) {
    throw invalidInput(
      `baseline: "${shorten(value)}" is empty or ends before it starts (since..until)`,
    );
  }
  return { kind: 'window', since, until };
}

/** PSI above which a feature is flagged: a positive number. */
export function parsePsiThreshold(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const threshold = Number(value);
  if (!(Number.isFinite(threshold) && threshold > 0)) {
    throw invalidInput(`psiThreshold: "${shorten(value)}" is not a positive number`);
  }
  return threshold;
}
