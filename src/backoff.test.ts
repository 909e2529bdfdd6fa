import { describe, expect, it } from 'vitest';
import { backoff } from './backoff.js';

describe('backoff', () => {
  it('starts at firstMs, doubles, and stays at lastMs', () => {
    const retry = backoff({ firstMs: 100, lastMs: 1_000 });
    expect(Array.from({ length: 6 }, () => retry.next())).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
  });

  it('starts over at firstMs after reset', () => {
    const retry = backoff({ firstMs: 250, lastMs: 5_000 });
    retry.next();
    retry.next();
    retry.reset();
    expect(retry.next()).toBe(250);
    expect(retry.next()).toBe(500);
  });
});
