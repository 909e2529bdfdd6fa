import type { RolloutTimer } from '../../src/control/rollout/service.js';

/** A rollout timer that fires when the test says so, and waits for what it triggered. */
export function createManualTimer() {
  const pending = new Map<number, { callback: () => Promise<void>; ms: number }>();
  let nextId = 0;
  const timer: RolloutTimer = {
    set(callback, ms) {
      nextId += 1;
      pending.set(nextId, { callback, ms });
      return nextId;
    },
    clear(handle) {
      pending.delete(handle as number);
    },
  };
  return {
    timer,
    /** Delays of the timers waiting now. */
    pendingDelays: () => [...pending.values()].map((p) => p.ms),
    async fireAll(): Promise<void> {
      const due = [...pending.entries()];
      pending.clear();
      for (const [, { callback }] of due) await callback();
    },
  };
}
