import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { parseDriftBaseline, parseTimePoint } from './time-window.js';

const NOW = Date.UTC(2026, 11, 10, 12, 0, 0);

const refusal = (value: string) => {
  try {
    parseTimePoint('since', value, NOW);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return (error as AppError).message;
  }
  throw new Error(`"${value}" was accepted as ${parseTimePoint('since', value, NOW)}`);
};

describe('parseTimePoint', () => {
  it('reads a duration before now, an ISO 8601 date or date-time, and ms since 1970', () => {
    expect(parseTimePoint('since', '1d', NOW)).toBe(NOW - 86_400_000);
    expect(parseTimePoint('since', '90m', NOW)).toBe(NOW - 5_400_000);
    expect(parseTimePoint('since', '2026-12-01', NOW)).toBe(Date.UTC(2026, 11, 1));
    expect(parseTimePoint('since', '2026-12-01T10:20:30Z', NOW)).toBe(
      Date.UTC(2026, 11, 1, 10, 20, 30),
    );
    expect(parseTimePoint('since', '2026-12-01T10:20:30.125Z', NOW)).toBe(
      Date.UTC(2026, 11, 1, 10, 20, 30, 125),
    );
    // An offset names the zone; without one, a date-time is UTC like a bare date.
    expect(parseTimePoint('since', '2026-12-01T10:20+02:00', NOW)).toBe(
      Date.UTC(2026, 11, 1, 8, 20),
    );
    expect(parseTimePoint('since', '2026-12-01T10:20-05:30', NOW)).toBe(
      Date.UTC(2026, 11, 1, 15, 50),
    );
    expect(parseTimePoint('since', '2026-12-01T10:20:30', NOW)).toBe(
      Date.UTC(2026, 11, 1, 10, 20, 30),
    );
    expect(parseTimePoint('since', '1796083200000', NOW)).toBe(1_796_083_200_000);
    expect(parseTimePoint('since', '0', NOW)).toBe(0);
    expect(parseTimePoint('since', undefined, NOW)).toBeUndefined();
  });

  it('refuses what Date.parse would guess at, saying what it takes', () => {
    // Each of these Date.parse reads as some date (2001-01-02, 2001-12-01, 2001-05-01…).
    for (const value of [
      '1 2',
      'Dec 1',
      '-5',
      '-1d',
      '2026/12/01',
      '12/01/2026',
      'Tue Dec 01 2026',
      '2026-12-01 10:00:00Z',
      '2026-02-30',
      '2026-13-01',
      '2026-12-01T24:00:00Z',
      '2026-12-01T10:60Z',
      '1e3',
      'yesterday',
    ]) {
      expect(refusal(value), value).toMatch(
        /^since: ".*" is not a time: use a duration before now \(1h, 30m, 7d\), an ISO 8601 date \(2026-12-01 or 2026-12-01T10:00:00Z\) or ms since 1970/,
      );
    }
  });

  it('refuses ms beyond what a Date holds', () => {
    expect(refusal('8640000000000001')).toMatch(/^since: .* out of range/);
  });
});

describe('parseDriftBaseline', () => {
  it('refuses an empty window, saying so', () => {
    expect(() => parseDriftBaseline('1d..1d', NOW)).toThrow(/^baseline: "1d..1d" is empty/);
    expect(() => parseDriftBaseline('1 2..1d', NOW)).toThrow(/^baseline: "1 2" is not a time/);
  });
});
