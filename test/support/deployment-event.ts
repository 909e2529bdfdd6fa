import type { DeploymentEvent } from '../../src/db/deployment-state.js';

/** An audit event for a store test: the store only needs it to be well formed. */
export const testEvent = (action: DeploymentEvent['action'], to: string): DeploymentEvent => ({
  model: 'iris',
  action,
  from: null,
  to,
  actor: 'test',
  reason: null,
  ts: Date.now(),
});
