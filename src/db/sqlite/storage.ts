import type { PredictionLogOptions } from '../predictions.js';
import type { Storage } from '../storage.js';
import { openDatabase } from './client.js';
import { createSqliteDeploymentStore } from './deployment-store.js';
import { createSqliteFeedbackStore } from './feedback-store.js';
import { createSqlitePredictionLog } from './prediction-log.js';
import { createSqliteRolloutStore } from './rollout-store.js';
import { createSqliteStatsQueries } from './stats-queries.js';

/** One SQLite file (WAL, migrations applied): everything one machine needs, no other service. */
export function openSqliteStorage(path: string, logOptions: PredictionLogOptions): Storage {
  const db = openDatabase(path);
  const predictionLog = createSqlitePredictionLog(db.$client, logOptions);
  return {
    kind: 'sqlite',
    deployments: createSqliteDeploymentStore(db),
    predictionLog,
    feedback: createSqliteFeedbackStore(db),
    rollouts: createSqliteRolloutStore(db),
    queries: createSqliteStatsQueries(db.$client),
    // A local file is reachable as long as the process is.
    leads: () => true,
    health: () => ({ ok: true, pendingRows: predictionLog.queueDepth, accepting: true }),
    async close() {
      await predictionLog.close();
      db.$client.close();
    },
  };
}
