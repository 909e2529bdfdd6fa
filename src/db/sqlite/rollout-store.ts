import { and, eq, sql } from 'drizzle-orm';
import type { RolloutRecord, RolloutStore } from '../rollouts.js';
import type { Db } from './client.js';
import { rollouts } from './schema.js';

export function createSqliteRolloutStore(db: Db): RolloutStore {
  // Prepared once: every control change reads the model's rollout (twice for a flip).
  const rolloutOf = db
    .select()
    .from(rollouts)
    .where(eq(rollouts.model, sql.placeholder('model')))
    .prepare();
  const runningRollouts = db
    .select()
    .from(rollouts)
    .where(eq(rollouts.status, 'running'))
    .prepare();
  return {
    get: async (model) => rolloutOf.get({ model }) as RolloutRecord | undefined,
    running: async () => runningRollouts.all() as RolloutRecord[],
    async saveIfSameStep(record) {
      const result = db.update(rollouts).set(record).where(sameStep(record)).run();
      return result.changes === 1;
    },
  };
}

const sameStep = (record: RolloutRecord) =>
  and(
    eq(rollouts.model, record.model),
    eq(rollouts.status, 'running'),
    eq(rollouts.stepIndex, record.stepIndex),
    eq(rollouts.stepStartedAt, record.stepStartedAt),
  );

/** Written inside a deployment commit's transaction. */
export function upsertRollout(db: Db, record: RolloutRecord): void {
  db.insert(rollouts)
    .values(record)
    .onConflictDoUpdate({ target: rollouts.model, set: record })
    .run();
}
