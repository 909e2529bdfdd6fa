/**
 * Exponential backoff between retries: `firstMs`, doubling each time, never more than
 * `lastMs`. Pure (no timers): the caller waits `next()` ms however it waits, and calls
 * `reset()` once an attempt succeeds so the next failure starts short again.
 */
export interface Backoff {
  /** The pause before the coming retry; the one after it is twice as long, up to `lastMs`. */
  next(): number;
  reset(): void;
}

export function backoff(options: { firstMs: number; lastMs: number }): Backoff {
  let delay = options.firstMs;
  return {
    next() {
      const now = delay;
      delay = Math.min(delay * 2, options.lastMs);
      return now;
    },
    reset() {
      delay = options.firstMs;
    },
  };
}
