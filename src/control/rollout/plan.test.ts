import { describe, expect, it } from 'vitest';
import { parseInterval, stepSplit, validateSteps } from './plan.js';

describe('rollout plan', () => {
  it('parses durations of one second and more', () => {
    expect(parseInterval('2m')).toBe(120_000);
    expect(parseInterval('1.5s')).toBe(1500);
    expect(parseInterval('1000ms')).toBe(1000);
    expect(parseInterval('1h')).toBe(3_600_000);
  });

  it('rejects unparseable intervals and intervals under one second', () => {
    expect(() => parseInterval('soon')).toThrow(/interval: "soon" is not a duration/);
    expect(() => parseInterval('300ms')).toThrow(/below the minimum of 1s/);
    expect(() => parseInterval('2 minutes')).toThrow(/interval/);
  });

  it('accepts increasing whole percentages within 1–100', () => {
    expect(validateSteps([5, 25, 50, 100])).toEqual([5, 25, 50, 100]);
    expect(() => validateSteps([])).toThrow(/steps/);
    expect(() => validateSteps([5, 5])).toThrow(/steps\[1\]: steps must increase/);
    expect(() => validateSteps([10, 5])).toThrow(/steps\[1\]/);
    expect(() => validateSteps([0, 50])).toThrow(/steps\[0\]/);
    expect(() => validateSteps([50, 101])).toThrow(/steps\[1\]/);
    expect(() => validateSteps([2.5])).toThrow(/steps\[0\]/);
  });

  it('puts live first so a growing step keeps every user already moved', () => {
    expect(Object.entries(stepSplit('v1', 'v2', 25))).toEqual([
      ['v1', 75],
      ['v2', 25],
    ]);
  });
});
