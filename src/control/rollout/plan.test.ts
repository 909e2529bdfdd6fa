import { describe, expect, it } from 'vitest';
import { selectVariant } from '../../gateway/variant-selection.js';
import { toPerMille } from '../../gateway/weights.js';
import { MAX_INTERVAL_MS, parseInterval, rolloutPolicy, stepSplit, validateSteps } from './plan.js';

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

  it('takes intervals up to the longest timer Node.js keeps, and no longer', () => {
    expect(parseInterval('1s')).toBe(1000);
    expect(parseInterval(`${MAX_INTERVAL_MS}ms`)).toBe(MAX_INTERVAL_MS);
    expect(() => parseInterval(`${MAX_INTERVAL_MS + 1}ms`)).toThrow(
      /interval: .* is above the maximum of 2147483647 ms/,
    );
    expect(() => parseInterval('999ms')).toThrow(/below the minimum of 1s/);
  });

  it('fills the decision defaults: alpha 0.05, no step limit, hold when inconclusive', () => {
    const guards = { accuracy: { margin: 0.02 } };
    expect(rolloutPolicy({ guards }, 60_000)).toEqual({
      alpha: 0.05,
      guards,
      maxStepDurationMs: null,
      onInconclusive: 'hold',
    });
    expect(
      rolloutPolicy(
        { guards, alpha: 0.1, maxStepDuration: '1h', onInconclusive: 'rollback' },
        60_000,
      ),
    ).toEqual({ alpha: 0.1, guards, maxStepDurationMs: 3_600_000, onInconclusive: 'rollback' });
  });

  it('takes alpha strictly between 0 and 0.5, and a step limit no shorter than the interval', () => {
    const guards = {};
    expect(() => rolloutPolicy({ guards, alpha: 0 }, 1000)).toThrow(/alpha: expected within/);
    expect(() => rolloutPolicy({ guards, alpha: 0.5 }, 1000)).toThrow(/alpha: .*got 0\.5/);
    expect(() => rolloutPolicy({ guards, alpha: Number.NaN }, 1000)).toThrow(/alpha/);
    expect(rolloutPolicy({ guards, alpha: 0.49 }, 1000).alpha).toBe(0.49);
    expect(rolloutPolicy({ guards, maxStepDuration: '1m' }, 60_000).maxStepDurationMs).toBe(60_000);
    expect(() => rolloutPolicy({ guards, maxStepDuration: '59s' }, 60_000)).toThrow(
      /maxStepDuration: 59s is shorter than the interval/,
    );
    expect(() => rolloutPolicy({ guards, maxStepDuration: 'soon' }, 60_000)).toThrow(
      /maxStepDuration: "soon" is not a duration/,
    );
  });

  it('accepts increasing whole percentages within 1–100', () => {
    expect(validateSteps([5, 25, 50, 100])).toEqual([5, 25, 50, 100]);
    expect(validateSteps([1, 100])).toEqual([1, 100]);
    expect(() => validateSteps([])).toThrow(/steps/);
    expect(() => validateSteps([5, 5])).toThrow(/steps\[1\]: steps must increase/);
    expect(() => validateSteps([10, 5])).toThrow(/steps\[1\]/);
    expect(() => validateSteps([0, 50])).toThrow(/steps\[0\]/);
    expect(() => validateSteps([50, 101])).toThrow(/steps\[1\]/);
    expect(() => validateSteps([2.5])).toThrow(/steps\[0\]/);
  });

  it('keeps every user already moved to the candidate as the step grows, whichever name sorts first', () => {
    // Through the gateway's own routing: weights to per mille, then the sticky bucket walk.
    const versionAt = (live: string, candidate: string, percent: number, user: string) =>
      selectVariant(
        toPerMille(stepSplit(live, candidate, percent)),
        'modelgate.iris',
        user,
        () => 0,
      );
    const steps = [5, 25, 50, 75, 100];
    for (const [live, candidate] of [
      ['v1', 'v2'],
      ['v2', 'v10'],
    ] as const) {
      for (let i = 0; i < 2000; i++) {
        const user = `user-${i}`;
        const at = steps.map((percent) => versionAt(live, candidate, percent, user));
        const firstMoved = at.indexOf(candidate);
        expect(firstMoved, user).not.toBe(-1); // everyone is on the candidate at 100 %
        expect(
          at.slice(firstMoved).every((v) => v === candidate),
          `${live}→${candidate} ${user}`,
        ).toBe(true);
      }
      const movedAt5 = Array.from({ length: 2000 }, (_, i) =>
        versionAt(live, candidate, 5, `user-${i}`),
      ).filter((v) => v === candidate).length;
      expect(movedAt5).toBeGreaterThan(0);
    }
  });
});
