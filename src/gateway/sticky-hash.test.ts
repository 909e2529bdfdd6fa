import murmurhash3js from 'murmurhash3js';
import { describe, expect, it } from 'vitest';
import { normalizedValue, STRATEGY_SEED, VARIANT_SEED } from './sticky-hash.js';

describe('murmurhash3js (the hash under Unleash bucketing)', () => {
  // Published MurmurHash3_x86_32 vectors: if these move, every user moves.
  it.each([
    ['', 0, 0],
    ['', 1, 0x514e28b7],
    ['hello', 0, 0x248bfa47],
    ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
  ])('hash32(%j, %i) = %i', (text, seed, expected) => {
    expect(murmurhash3js.x86.hash32(text, seed)).toBe(expected);
  });
});

describe('normalizedValue', () => {
  it('hashes "<groupId>:<id>" and maps to 1..normalizer', () => {
    // hash32('AB12A:123', 0) = 1954468150 → % 100 + 1 = 51
    expect(normalizedValue('123', 'AB12A')).toBe(51);
    // hash32('modelgate.iris:user-42', 86028157) = 620925173 → % 1000 + 1 = 174
    expect(normalizedValue('user-42', 'modelgate.iris', 1000, VARIANT_SEED)).toBe(174);
    // hash32('modelgate.iris:alice', 86028157) = 2043716835 → % 1000 + 1 = 836
    expect(normalizedValue('alice', 'modelgate.iris', 1000, VARIANT_SEED)).toBe(836);
  });

  it('uses the rollout seed 0 and normalizer 100 by default', () => {
    expect(STRATEGY_SEED).toBe(0);
    expect(normalizedValue('123', 'AB12A')).toBe(normalizedValue('123', 'AB12A', 100, 0));
  });

  it('uses Unleash variant seed 86028157', () => {
    expect(VARIANT_SEED).toBe(86028157);
  });

  it('stays within 1..normalizer and is deterministic', () => {
    for (let i = 0; i < 2000; i++) {
      const value = normalizedValue(`user-${i}`, 'modelgate.iris', 1000, VARIANT_SEED);
      expect(value).toBeGreaterThanOrEqual(1);
      expect(value).toBeLessThanOrEqual(1000);
      expect(normalizedValue(`user-${i}`, 'modelgate.iris', 1000, VARIANT_SEED)).toBe(value);
    }
  });

  it('changes with the group id and the seed', () => {
    const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
    const base = keys.map((k) => normalizedValue(k, 'modelgate.iris', 1000, VARIANT_SEED));
    const otherGroup = keys.map((k) =>
      normalizedValue(k, 'modelgate.penguins', 1000, VARIANT_SEED),
    );
    const otherSeed = keys.map((k) => normalizedValue(k, 'modelgate.iris', 1000, 0));
    expect(otherGroup).not.toEqual(base);
    expect(otherSeed).not.toEqual(base);
  });
});
