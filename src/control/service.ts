import type { DeploymentState } from '../db/deployment-state.js';
import type { DeploymentStore, StoredDeploymentEvent } from '../db/deployments.js';
import { AppError, conflict, modelNotFound } from '../errors.js';
import type { ModelHost } from '../models/model-host.js';
import {
  applyDeploymentCommand,
  type DeploymentCommand,
  initialState,
  ROLLOUT_OWNED,
} from './deployments.js';

export interface ChangeMeta {
  actor: string;
  reason?: string | null;
}

export interface ModelControlView {
  deployment: DeploymentState;
  loaded: string[];
  events: StoredDeploymentEvent[];
  rollout: unknown;
}

export interface ControlService {
  view(model: string): Promise<ModelControlView>;
  apply(model: string, command: DeploymentCommand, meta: ChangeMeta): Promise<DeploymentState>;
  /** Gives every hosted model a deployment (first start: lowest version live). */
  ensureDeployments(): Promise<void>;
}

/** Another replica's change can win the compare-and-set this many times in a row before we give up. */
const COMMIT_ATTEMPTS = 5;

export function createControlService(deps: {
  host: ModelHost;
  deployments: DeploymentStore;
  /** Whether a progressive rollout owns this model's traffic right now. */
  rolloutRunning?: (model: string) => Promise<boolean>;
  rolloutView?: (model: string) => Promise<unknown>;
  now?: () => number;
}): ControlService {
  const { host, deployments } = deps;
  const now = deps.now ?? Date.now;
  // Changes to one model run one after another in this process, so two requests never
  // decide from the same state; across replicas the store's compare-and-set does that.
  const queues = new Map<string, Promise<unknown>>();
  const serialized = <T>(model: string, work: () => Promise<T>): Promise<T> => {
    const run = (queues.get(model) ?? Promise.resolve()).then(work, work);
    const settled = run.catch(() => undefined);
    queues.set(model, settled);
    void settled.then(() => {
      if (queues.get(model) === settled) queues.delete(model);
    });
    return run;
  };

  /**
   * Decides from the current state and commits; when another replica committed
   * first (409 from the store), re-reads and decides again, so both changes land
   * in order and neither is lost.
   */
  const decideAndCommit = async (
    model: string,
    command: DeploymentCommand,
    meta: ChangeMeta,
  ): Promise<DeploymentState> => {
    for (let attempt = 1; ; attempt++) {
      const before = current(model);
      const { state, event } = applyDeploymentCommand(before, command, host.loaded(model));
      if (state === before) return state;
      try {
        await deployments.commit(state, {
          ...event,
          actor: meta.actor,
          reason: meta.reason ?? null,
          ts: now(),
        });
        return state;
      } catch (error) {
        if (
          !(error instanceof AppError && error.code === 'conflict') ||
          attempt >= COMMIT_ATTEMPTS
        ) {
          throw error;
        }
        await deployments.reload(model);
      }
    }
  };

  const current = (model: string): DeploymentState => {
    const state = deployments.get(model);
    if (!state) throw modelNotFound(model);
    return state;
  };

  return {
    async view(model) {
      return {
        deployment: current(model),
        loaded: host.versions(model),
        events: await deployments.events(model, 20),
        rollout: (await deps.rolloutView?.(model)) ?? null,
      };
    },

    apply: (model, command, meta) => serialized(model, () => applyNow(model, command, meta)),

    async ensureDeployments() {
      for (const model of host.models()) {
        if (deployments.get(model) ?? (await deployments.reload(model))) continue;
        const state = initialState(model, host.versions(model));
        try {
          await deployments.commit(state, {
            model,
            action: 'init',
            from: null,
            to: state.live,
            actor: 'modelgate',
            reason: 'first start: lowest version live',
            ts: now(),
          });
        } catch (error) {
          // Another replica starting at the same moment created it first.
          if (!(error instanceof AppError && error.code === 'conflict')) throw error;
          await deployments.reload(model);
        }
      }
    },
  };

  async function applyNow(
    model: string,
    command: DeploymentCommand,
    meta: ChangeMeta,
  ): Promise<DeploymentState> {
    if (ROLLOUT_OWNED.has(command.type) && (await deps.rolloutRunning?.(model))) {
      throw conflict(
        `a rollout of "${model}" is running; abort it first (POST /control/rollout/abort)`,
      );
    }
    // Loading is slow; it happens before the state is read, so the decision below
    // sees the newest state.
    if (command.type === 'load' || command.type === 'promote') {
      if (!deployments.get(model) && command.type === 'promote') throw modelNotFound(model);
      await host.load(model, command.version);
    }
    if (command.type === 'load' && !deployments.get(model)) {
      const state = initialState(model, host.versions(model));
      await deployments.commit(state, {
        model,
        action: 'load',
        from: null,
        to: command.version,
        actor: meta.actor,
        reason: meta.reason ?? null,
        ts: now(),
      });
      return state;
    }
    const state = await decideAndCommit(model, command, meta);
    if (command.type === 'unload') await host.unload(model, command.version);
    return state;
  }
}
