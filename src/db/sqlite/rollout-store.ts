import { and, eq } from 'drizzle-orm';
import type { RolloutRecord, RolloutStore } from '../rollouts.js';
import type { Db } from './client.js';
import { rollouts } from './schema.js';

export function createSqliteRolloutStore(db: Db): RolloutStore {
  return {
    get: async (model) =>
      db.select().from(rollouts).where(eq(rollouts.model, model)).get() as
        | RolloutRecord
        | undefined,
    running: async () =>
      db.select().from(rollouts).where(eq(rollouts.status, 'running')).all() as RolloutRecord[],
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
