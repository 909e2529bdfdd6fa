import { describe, expect, it } from 'vitest';
import { toPerMille } from './weights.js';

describe('toPerMille', () => {
  it('scales 90/10 to 900/100', () => {
    expect(toPerMille({ v1: 90, v2: 10 })).toEqual([
      { name: 'v1', weight: 900 },
      { name: 'v2', weight: 100 },
    ]);
  });

  it('gives the leftover to the earliest of equal remainders', () => {
    // 1000/3 = 333 r 1 each; one unit left → the first.
    expect(toPerMille({ a: 1, b: 1, b2: 1 })).toEqual([
      { name: 'a', weight: 334 },
      { name: 'b', weight: 333 },
      { name: 'b2', weight: 333 },
    ]);
  });

  it('gives the leftover to the largest remainder, not the first', () => {
    // 1000·1/6 = 166 r 4/6, 1000·2/6 = 333 r 2/6, 1000·3/6 = 500 r 0: 999, one left → v1.
    expect(toPerMille({ v1: 1, v2: 2, v3: 3 })).toEqual([
      { name: 'v1', weight: 167 },
      { name: 'v2', weight: 333 },
      { name: 'v3', weight: 500 },
    ]);
    // 1000·1/7 = 142 r 6/7 ×3, 1000·4/7 = 571 r 3/7: 997, three left → the three 1s.
    expect(toPerMille({ v4: 4, v1: 1, v2: 1, v3: 1 })).toEqual([
      { name: 'v1', weight: 143 },
      { name: 'v2', weight: 143 },
      { name: 'v3', weight: 143 },
      { name: 'v4', weight: 571 },
    ]);
  });

  it("walks versions in name order, as Unleash serves a strategy's variants", () => {
    // unleash-server 8.2 sorts variants with localeCompare before serving them.
    expect(toPerMille({ v2: 10, v1: 90 }).map((v) => v.name)).toEqual(['v1', 'v2']);
    expect(toPerMille({ canary: 1, baseline: 1 }).map((v) => v.name)).toEqual([
      'baseline',
      'canary',
    ]);
  });

  it('keeps a zero weight as 0 and never hands it a leftover', () => {
    // 1000/3 each as above, plus a zero that must stay 0 even though it ties at remainder 0.
    expect(toPerMille({ z: 0, a: 1, b: 1, c: 1 })).toEqual([
      { name: 'a', weight: 334 },
      { name: 'b', weight: 333 },
      { name: 'c', weight: 333 },
      { name: 'z', weight: 0 },
    ]);
    expect(toPerMille({ v1: 100, v2: 0 })).toEqual([
      { name: 'v1', weight: 1000 },
      { name: 'v2', weight: 0 },
    ]);
  });

  it('always totals 1000 for a positive total', () => {
    const cases: Record<string, number>[] = [
      { a: 7, b: 13, c: 29 },
      { a: 1 },
      { a: 999, b: 1, c: 1 },
      { a: 3, b: 3, c: 3 },
    ];
    for (const weights of cases) {
      expect(toPerMille(weights).reduce((sum, v) => sum + v.weight, 0)).toBe(1000);
    }
  });

  it('floors before handing out leftovers: six equal weights are 167 ×4 + 166 ×2, not 1006', () => {
    const six = toPerMille({ a: 1, b: 1, c: 1, d: 1, e: 1, f: 1 });
    expect(six.map((v) => v.weight)).toEqual([167, 167, 167, 167, 166, 166]);
    expect(six.reduce((sum, v) => sum + v.weight, 0)).toBe(1000);
  });

  it('returns zeros when the total is 0', () => {
    expect(toPerMille({ v1: 0 })).toEqual([{ name: 'v1', weight: 0 }]);
  });
});
