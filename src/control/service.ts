import { backoff } from '../backoff.js';
import { type DeploymentState, neededVersions } from '../db/deployment-state.js';
import type { DeploymentStore, StoredDeploymentEvent } from '../db/deployments.js';
import type { RolloutRecord, RolloutStore } from '../db/rollouts.js';
import { AppError, conflict, modelNotFound } from '../errors.js';
import type { ModelHost } from '../models/model-host.js';
import type { HostedVersion } from '../models/onnx-host.js';
import {
  applyDeploymentCommand,
  type DeploymentCommand,
  fileChanged,
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

/**
 * A change of a progressive rollout. It is decided inside the model's serialised
 * section from the stored rollout and deployment, decided again from fresh reads
 * whenever another replica committed first, and committed together with the
 * deployment change it makes: an abort and a step evaluated at the same moment
 * are ordered, and the later one sees what the earlier did.
 */
export type RolloutChange = (
  stored: RolloutRecord | undefined,
  state: DeploymentState,
) => { command: DeploymentCommand; record: RolloutRecord } | null;

export interface ControlService {
  view(model: string): Promise<ModelControlView>;
  apply(model: string, command: DeploymentCommand, meta: ChangeMeta): Promise<DeploymentState>;
  /**
   * Loads a version from the models directory and adds it to the versions every replica
   * hosts. The same file again changes nothing; a changed file is a 409 unless `reload`,
   * and then the new session replaces the old one in one step.
   */
  load(
    model: string,
    version: string,
    options: { reload: boolean },
    meta: ChangeMeta,
  ): Promise<DeploymentState>;
  /** Applies a rollout's change; null when `decide` found it no longer applies. */
  applyRollout(
    model: string,
    decide: RolloutChange,
    meta: ChangeMeta,
  ): Promise<RolloutRecord | null>;
  /** Gives every hosted model a deployment (first start: lowest version live). */
  ensureDeployments(): Promise<void>;
}

/** Pauses between attempts after another replica won the compare-and-set: short, growing, jittered. */
const RETRY_FIRST_MS = 2;
const RETRY_LAST_MS = 100;

export function createControlService(deps: {
  host: ModelHost;
  deployments: DeploymentStore;
  rollouts: RolloutStore;
  now?: () => number;
  random?: () => number;
}): ControlService {
  const { host, deployments, rollouts } = deps;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
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
   * first (409 from the store), re-reads and decides again. There is no attempt
   * limit: every conflict means some change landed, so the system always moves
   * on, and a change that is valid is never refused for having been unlucky.
   * `decide` returns null to drop the change (it no longer applies).
   */
  const commitWithRetry = async <T>(
    model: string,
    decide: (
      state: DeploymentState,
    ) => Promise<{ command: DeploymentCommand; rollout?: RolloutRecord; result: T } | { done: T }>,
    meta: ChangeMeta,
  ): Promise<T> => {
    const pause = backoff({ firstMs: RETRY_FIRST_MS, lastMs: RETRY_LAST_MS });
    for (;;) {
      const before = current(model);
      const decision = await decide(before);
      if ('done' in decision) return decision.done;
      const { state, event } = applyDeploymentCommand(before, decision.command, host.loaded(model));
      if (state === before) return decision.result;
      try {
        await deployments.commit(
          state,
          { ...event, actor: meta.actor, reason: meta.reason ?? null, ts: now() },
          decision.rollout,
        );
        return decision.result;
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'conflict')) throw error;
        // Jitter keeps two replicas that collided from colliding again in lockstep.
        await sleep(pause.next() * (0.5 + random()));
        await deployments.reload(model);
        // Another replica's change needs a version this one cannot load: deciding on the
        // older state would only conflict again, so say why instead.
        const lag = deployments.lagging().find((l) => l.model === model);
        if (lag && lag.revision > current(model).revision) {
          throw new AppError(
            503,
            'unavailable',
            `${model}: this replica cannot apply revision ${lag.revision} yet (${lag.reason}); send the change to another replica or fix its models directory`,
          );
        }
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
        rollout: (await rollouts.get(model)) ?? null,
      };
    },

    apply: (model, command, meta) => serialized(model, () => applyNow(model, command, meta)),

    load: (model, version, options, meta) =>
      serialized(model, () => loadNow(model, version, options.reload, meta)),

    applyRollout: (model, decide, meta) =>
      serialized(model, () =>
        commitWithRetry<RolloutRecord | null>(
          model,
          async (state) => {
            const change = decide(await rollouts.get(model), state);
            return change
              ? { command: change.command, rollout: change.record, result: change.record }
              : { done: null };
          },
          meta,
        ),
      ),

    async ensureDeployments() {
      for (const model of host.models()) {
        if (deployments.get(model) ?? (await deployments.reload(model))) continue;
        const state = initialState(model, host.versions(model), host.hashes(model));
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

  async function refuseWhileRolloutRuns(model: string): Promise<void> {
    if ((await rollouts.get(model))?.status === 'running') {
      throw conflict(
        `a rollout of "${model}" is running; abort it first (POST /control/rollout/abort)`,
      );
    }
  }

  async function applyNow(
    model: string,
    command: DeploymentCommand,
    meta: ChangeMeta,
  ): Promise<DeploymentState> {
    if (ROLLOUT_OWNED.has(command.type)) await refuseWhileRolloutRuns(model);
    // Loading is slow; it happens before the state is read, so the decision below
    // sees the newest state.
    if (command.type === 'promote') {
      if (!deployments.get(model)) throw modelNotFound(model);
      await host.load(model, command.version);
    }
    const state = await commitWithRetry<DeploymentState>(
      model,
      async (before) => {
        // Read again on every attempt: a rollout started on another replica wins the race.
        if (ROLLOUT_OWNED.has(command.type)) await refuseWhileRolloutRuns(model);
        return { command, result: before };
      },
      meta,
    );
    if (command.type === 'unload') releaseUnlessNeeded(model, command.version);
    return state;
  }

  /**
   * Unloads here unless the deployment now in memory needs the version again (another
   * replica's change that landed since): an unload never takes away what routing uses.
   */
  function releaseUnlessNeeded(model: string, version: string): void {
    const state = deployments.get(model);
    if (state && neededVersions(state).includes(version)) return;
    if (host.get(model, version)) void host.unload(model, version);
  }

  async function loadNow(
    model: string,
    version: string,
    reload: boolean,
    meta: ChangeMeta,
  ): Promise<DeploymentState> {
    const onDisk = host.fileSha256(model, version);
    const serving = host.get(model, version);
    if (serving && serving.sha256 !== onDisk && !reload) {
      throw fileChanged(model, version, serving.sha256, onDisk);
    }
    // The new session is made before the change is decided and serves only once it is
    // committed: a refused or failed change leaves the old one serving, untouched.
    const fresh: HostedVersion | undefined =
      serving?.sha256 === onDisk ? undefined : await host.open(model, version);
    const sha256 = fresh?.sha256 ?? onDisk;
    try {
      const existing = deployments.get(model);
      let state: DeploymentState;
      if (!existing) {
        const versions = [...new Set([...host.versions(model), version])];
        state = initialState(model, versions, { ...host.hashes(model), [version]: sha256 });
        await deployments.commit(state, {
          model,
          action: 'load',
          from: null,
          to: version,
          actor: meta.actor,
          reason: meta.reason ?? null,
          detail: { sha256 },
          ts: now(),
        });
      } else {
        state = await commitWithRetry<DeploymentState>(
          model,
          async (before) => ({
            command: { type: 'load', version, sha256, reload },
            result: before,
          }),
          meta,
        );
      }
      if (fresh) host.install(fresh);
      return current(model);
    } catch (error) {
      await fresh?.release();
      throw error;
    }
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
