import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it('reads every unit, whole or fractional', () => {
    expect(parseDuration('1500ms')).toBe(1500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration(' 1h ')).toBe(3_600_000);
  });

  it('is undefined for anything else', () => {
    for (const value of ['', 'soon', '2 minutes', '1w', '-1h', 'h', '1e3s', '10']) {
      expect(parseDuration(value), value).toBeUndefined();
    }
  });
});

describe('formatDuration', () => {
  it('writes whole days in days, anything else in hours, each readable back', () => {
    expect(formatDuration(604_800_000)).toBe('7d');
    expect(formatDuration(129_600_000)).toBe('36h');
    expect(formatDuration(5_400_000)).toBe('1.5h');
    for (const ms of [604_800_000, 129_600_000, 5_400_000]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});
