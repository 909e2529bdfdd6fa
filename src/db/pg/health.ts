import type { StorageHealth } from '../storage.js';

/** The background paths that talk to PostgreSQL on their own and can find it gone. */
export type PgPath = 'prediction log' | 'deployment listener' | 'deployment refresh';

export interface PgHealth {
  failed(path: PgPath, error: unknown): void;
  recovered(path: PgPath): void;
  /** The log turned a prediction away: full until the next successful write. */
  refused(): void;
  report(pendingRows: number): StorageHealth;
}

/**
 * Unhealthy while any path's last round trip failed; healthy again as soon as each
 * failed path has had one that succeeded.
 */
export function createPgHealth(): PgHealth {
  const failures = new Map<PgPath, string>();
  let refusing = false;
  return {
    refused() {
      refusing = true;
    },
    failed(path, error) {
      failures.set(path, error instanceof Error ? error.message : String(error));
    },
    recovered(path) {
      failures.delete(path);
      if (path === 'prediction log') refusing = false;
    },
    report(pendingRows) {
      const accepting = !refusing;
      if (failures.size === 0) return { ok: true, pendingRows, accepting };
      const causes = [...failures].map(([path, message]) => `${path}: ${message}`).join('; ');
      return {
        ok: false,
        detail: `postgres unreachable: ${causes}; ${pendingRows} log rows buffered`,
        pendingRows,
        accepting,
      };
    },
  };
}
