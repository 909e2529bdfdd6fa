import { and, desc, eq } from 'drizzle-orm';
import { conflict } from '../../errors.js';
import { toDeploymentState, toEventRow, toStoredEvent } from '../deployment-rows.js';
import type { DeploymentEvent, DeploymentState } from '../deployment-state.js';
import type { DeploymentStore } from '../deployments.js';
import type { RolloutRecord } from '../rollouts.js';
import type { Db } from './client.js';
import { upsertRollout } from './rollout-store.js';
import { deploymentEvents, deployments } from './schema.js';

export function createSqliteDeploymentStore(db: Db): DeploymentStore {
  const current = new Map<string, DeploymentState>();
  for (const row of db.select().from(deployments).all())
    current.set(row.model, toDeploymentState(row));

  const persist = db.$client.transaction(
    (next: DeploymentState, event: DeploymentEvent, rollout: RolloutRecord | undefined) => {
      const stored = db
        .select({ revision: deployments.revision })
        .from(deployments)
        .where(eq(deployments.model, next.model))
        .get();
      const expected = next.revision - 1;
      if ((stored?.revision ?? -1) !== expected && !(stored === undefined && next.revision === 0)) {
        throw conflict(
          `deployment of "${next.model}" changed concurrently (revision ${stored?.revision}, expected ${expected})`,
        );
      }
      const row = { ...next, updatedAt: event.ts };
      db.insert(deployments)
        .values(row)
        .onConflictDoUpdate({ target: deployments.model, set: row })
        .run();
      db.insert(deploymentEvents).values(toEventRow(event)).run();
      if (rollout) upsertRollout(db, rollout);
    },
  );

  return {
    get: (model) => current.get(model),
    all: () => [...current.values()],
    async commit(next, event, rollout) {
      persist(next, event, rollout);
      current.set(next.model, next);
    },
    async events(model, limit) {
      return db
        .select()
        .from(deploymentEvents)
        .where(and(eq(deploymentEvents.model, model)))
        .orderBy(desc(deploymentEvents.id))
        .limit(limit)
        .all()
        .map(toStoredEvent);
    },
    // One process owns the file: every change was made (and its versions loaded) here.
    prepareWith: () => {},
    lagging: () => [],
    // The control service lets go of what it unloads itself.
    onReplaced: () => {},
    async reload(model) {
      const row = db.select().from(deployments).where(eq(deployments.model, model)).get();
      if (row) current.set(model, toDeploymentState(row));
      else current.delete(model);
      return current.get(model);
    },
  };
}
