import { describe, expect, it } from 'vitest';
import type { DeploymentState } from '../db/deployment-state.js';
import { flagName, type RouteInput, routeRequest } from './routing.js';
import { shouldShadow } from './shadow-sampling.js';
import { normalizedValue, VARIANT_SEED } from './sticky-hash.js';
import { selectVariant } from './variant-selection.js';

const GROUP = 'modelgate.iris';
const never = (): number => {
  throw new Error('random must not be drawn when the route is decided without it');
};

function state(overrides: Partial<DeploymentState> = {}): DeploymentState {
  return {
    model: 'iris',
    live: 'v1',
    standby: 'v2',
    history: [],
    split: null,
    source: 'local',
    pinned: false,
    shadow: null,
    hosted: {},
    revision: 1,
    ...overrides,
  };
}

function input(overrides: Partial<RouteInput> = {}): RouteInput {
  return {
    state: state(),
    loaded: new Set(['v1', 'v2', 'v3']),
    groupId: GROUP,
    random: never,
    ...overrides,
  };
}

/** A key whose variant bucket (1..1000) satisfies `test`, found by scanning. */
function keyWithBucket(test: (bucket: number) => boolean): string {
  for (let i = 0; i < 100_000; i++) {
    const key = `user-${i}`;
    if (test(normalizedValue(key, GROUP, 1000, VARIANT_SEED))) return key;
  }
  throw new Error('no key found');
}

describe('flagName', () => {
  it('joins prefix and model', () => {
    expect(flagName('modelgate.', 'iris')).toBe('modelgate.iris');
  });
});

describe('selectVariant', () => {
  const variants = [
    { name: 'v1', weight: 900 },
    { name: 'v2', weight: 100 },
  ];

  it('walks the variants in order: bucket ≤ 900 → v1, above → v2', () => {
    const low = keyWithBucket((b) => b <= 900);
    const high = keyWithBucket((b) => b > 900);
    expect(selectVariant(variants, GROUP, low, never)).toBe('v1');
    expect(selectVariant(variants, GROUP, high, never)).toBe('v2');
  });

  it('puts bucket exactly 900 on v1 and 901 on v2 (cumulative ≥ target)', () => {
    expect(
      selectVariant(
        variants,
        GROUP,
        keyWithBucket((b) => b === 900),
        never,
      ),
    ).toBe('v1');
    expect(
      selectVariant(
        variants,
        GROUP,
        keyWithBucket((b) => b === 901),
        never,
      ),
    ).toBe('v2');
  });

  it('hashes with the variant total as normalizer', () => {
    // user-42 lands in bucket 174 of 1000 (see sticky-hash.test.ts).
    const tiny = [
      { name: 'a', weight: 173 },
      { name: 'b', weight: 1 },
      { name: 'c', weight: 826 },
    ];
    expect(selectVariant(tiny, GROUP, 'user-42', never)).toBe('b');
  });

  it('skips zero weights', () => {
    const withZero = [
      { name: 'v0', weight: 0 },
      { name: 'v1', weight: 1000 },
    ];
    expect(selectVariant(withZero, GROUP, 'anyone', never)).toBe('v1');
  });

  it('draws the bucket from random without a sticky key', () => {
    // floor(r · 1000) + 1: r = 0 → 1 (v1), 0.8999 → 900 (v1), 0.9 → 901 (v2), 0.9999 → 1000 (v2)
    expect(selectVariant(variants, GROUP, undefined, () => 0)).toBe('v1');
    expect(selectVariant(variants, GROUP, undefined, () => 0.8999)).toBe('v1');
    expect(selectVariant(variants, GROUP, undefined, () => 0.9)).toBe('v2');
    expect(selectVariant(variants, GROUP, undefined, () => 0.9999)).toBe('v2');
    expect(selectVariant(variants, GROUP, '', () => 0.95)).toBe('v2');
  });

  it('returns undefined when the weights total 0 or there are none', () => {
    expect(selectVariant([{ name: 'v1', weight: 0 }], GROUP, 'k', never)).toBeUndefined();
    expect(selectVariant([], GROUP, 'k', never)).toBeUndefined();
  });
});

describe('routeRequest', () => {
  describe('rule 1: override', () => {
    it('serves a loaded version named by the override, before every other rule', () => {
      const everything = input({
        state: state({ pinned: true, source: 'unleash', split: { v1: 50, v2: 50 } }),
        override: 'v3',
        flagVariant: { enabled: true, name: 'v2' },
        stickyKey: 'alice',
      });
      expect(routeRequest(everything)).toEqual({
        kind: 'routed',
        version: 'v3',
        route: 'override',
      });
    });

    it('reports an override naming an unloaded version as unknown (the caller’s 404)', () => {
      expect(routeRequest(input({ override: 'v9' }))).toEqual({
        kind: 'unknown_version',
        version: 'v9',
      });
    });

    it('treats an empty override as none', () => {
      expect(routeRequest(input({ override: '' }))).toEqual({
        kind: 'routed',
        version: 'v1',
        route: 'live',
      });
    });
  });

  describe('rule 2: pinned', () => {
    it('serves live when pinned, ignoring the flag', () => {
      const pinned = input({
        state: state({ pinned: true, source: 'unleash' }),
        flagVariant: { enabled: true, name: 'v2' },
      });
      expect(routeRequest(pinned)).toEqual({ kind: 'routed', version: 'v1', route: 'pinned' });
    });

    it('serves live when pinned, ignoring a local split', () => {
      const pinned = input({ state: state({ pinned: true, split: { v1: 0, v2: 100 } }) });
      expect(routeRequest(pinned)).toEqual({ kind: 'routed', version: 'v1', route: 'pinned' });
    });
  });

  describe('rule 3: Unleash flag', () => {
    const unleash = state({ source: 'unleash', split: { v1: 0, v2: 100 } });

    it('serves the flag’s variant when it names a loaded version', () => {
      const routed = routeRequest(
        input({ state: unleash, flagVariant: { enabled: true, name: 'v2' } }),
      );
      expect(routed).toEqual({ kind: 'routed', version: 'v2', route: 'flag' });
    });

    it('serves live and reports the variant when it names no loaded version', () => {
      const routed = routeRequest(
        input({ state: unleash, flagVariant: { enabled: true, name: 'v7' } }),
      );
      expect(routed).toEqual({
        kind: 'routed',
        version: 'v1',
        route: 'live',
        ignoredVariant: 'v7',
      });
    });

    it('serves live when the flag is off or has no variant (the local split is not used)', () => {
      const off = input({ state: unleash, flagVariant: { enabled: false, name: 'disabled' } });
      expect(routeRequest(off)).toEqual({ kind: 'routed', version: 'v1', route: 'live' });
    });

    it('serves live when Unleash has given no flag yet', () => {
      expect(routeRequest(input({ state: unleash }))).toEqual({
        kind: 'routed',
        version: 'v1',
        route: 'live',
      });
    });
  });

  describe('rule 4: local split', () => {
    it('serves the version the weights give the sticky key', () => {
      const split = state({ split: { v1: 90, v2: 10 } });
      const toV1 = keyWithBucket((b) => b <= 900);
      const toV2 = keyWithBucket((b) => b > 900);
      expect(routeRequest(input({ state: split, stickyKey: toV1 }))).toEqual({
        kind: 'routed',
        version: 'v1',
        route: 'split',
      });
      expect(routeRequest(input({ state: split, stickyKey: toV2 }))).toEqual({
        kind: 'routed',
        version: 'v2',
        route: 'split',
      });
    });

    it('scales relative weights to per mille before hashing', () => {
      // {v1: 9, v2: 1} is the same split as {v1: 900, v2: 100}.
      const key = keyWithBucket((b) => b === 901);
      const routed = routeRequest(
        input({ state: state({ split: { v1: 9, v2: 1 } }), stickyKey: key }),
      );
      expect(routed).toEqual({ kind: 'routed', version: 'v2', route: 'split' });
    });

    it('draws from random without a sticky key', () => {
      const split = state({ split: { v1: 50, v2: 50 } });
      expect(routeRequest(input({ state: split, random: () => 0.2 }))).toMatchObject({
        version: 'v1',
        route: 'split',
      });
      expect(routeRequest(input({ state: split, random: () => 0.7 }))).toMatchObject({
        version: 'v2',
        route: 'split',
      });
    });

    it('serves live and reports the version when the split picks one not loaded', () => {
      const split = state({ split: { v1: 0, v5: 100 } });
      expect(routeRequest(input({ state: split, stickyKey: 'alice' }))).toEqual({
        kind: 'routed',
        version: 'v1',
        route: 'live',
        ignoredVariant: 'v5',
      });
    });

    it('serves live when the weights total 0', () => {
      const split = state({ split: { v1: 0, v2: 0 } });
      expect(routeRequest(input({ state: split, stickyKey: 'alice' }))).toEqual({
        kind: 'routed',
        version: 'v1',
        route: 'live',
      });
    });
  });

  describe('rule 5: live', () => {
    it('serves live with no split, unpinned', () => {
      expect(routeRequest(input({ stickyKey: 'alice' }))).toEqual({
        kind: 'routed',
        version: 'v1',
        route: 'live',
      });
    });
  });

  it('gives the same key the same version every time', () => {
    const split = state({ split: { v1: 1, v2: 2, v3: 3 } });
    for (let i = 0; i < 200; i++) {
      const first = routeRequest(input({ state: split, stickyKey: `k${i}` }));
      const again = routeRequest(input({ state: split, stickyKey: `k${i}` }));
      expect(again).toEqual(first);
    }
  });
});

describe('shouldShadow', () => {
  it('never shadows at 0% and always at 100%', () => {
    expect(shouldShadow(0, () => 0)).toBe(false);
    expect(shouldShadow(100, () => 0.99999)).toBe(true);
    expect(shouldShadow(Number.NaN, () => 0)).toBe(false);
  });

  it('shadows when random · 100 falls below the percent', () => {
    expect(shouldShadow(25, () => 0.2499)).toBe(true);
    expect(shouldShadow(25, () => 0.25)).toBe(false);
    expect(shouldShadow(0.5, () => 0.004)).toBe(true);
    expect(shouldShadow(0.5, () => 0.005)).toBe(false);
  });
});
