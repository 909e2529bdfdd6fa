import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';

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
