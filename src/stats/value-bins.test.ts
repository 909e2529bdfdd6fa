import { describe, expect, it } from 'vitest';
import { binOf, valueOfBin } from './value-bins.js';

describe('binOf', () => {
  it('keeps the order of values, negative and positive alike', () => {
    const values = [-1e6, -3.5, -1, -0.001, -1e-30, 0, 1e-30, 0.001, 0.5, 1, 1.5, 2047, 1e6];
    const keys = values.map(binOf);
    for (let i = 1; i < keys.length; i++) {
      expect(keys[i] as number).toBeGreaterThan(keys[i - 1] as number);
    }
  });

  it('puts values within 0.05 % of each other in one bin and whole numbers to 2,048 in their own', () => {
    // A bin starts at valueOfBin and spans 1/2048 to 1/1024 of it.
    const start = valueOfBin(binOf(5.1));
    expect(binOf(start * (1 + 0.99 / 2048))).toBe(binOf(start));
    expect(binOf(start * (1 + 1 / 1024))).toBe(binOf(start) + 1);
    expect(binOf(-start * (1 + 0.99 / 2048))).toBe(binOf(-start));
    expect(binOf(0)).toBe(binOf(-0));
    for (let n = 1; n < 2048; n++) expect(binOf(n + 1)).toBeGreaterThan(binOf(n));
  });

  it('stands for a value within 0.1 % of the values in the bin', () => {
    for (const value of [5.1, -5.1, 0.0123, 1234.5, -7e-5, 3]) {
      expect(Math.abs(valueOfBin(binOf(value)) - value)).toBeLessThanOrEqual(
        Math.abs(value) / 1024,
      );
    }
    expect(valueOfBin(binOf(3))).toBe(3);
    // Zero stands for zero (a feature that is mostly 0 has its deciles there).
    expect(valueOfBin(binOf(0))).toBe(0);
  });
});
