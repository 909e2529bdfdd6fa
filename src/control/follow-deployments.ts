import { type Backoff, backoff } from '../backoff.js';
import { type DeploymentState, neededVersions } from '../db/deployment-state.js';
import type { Logger } from '../logger.js';
import type { ModelHost } from '../models/model-host.js';

/** After this long between attempts, a replica that cannot load a version stops slowing down. */
const LAST_RETRY_MS = 30_000;

export interface DeploymentFollower {
  /**
   * Loads every version `next` needs that this replica does not serve (or serves from a
   * file with another hash) from its own models directory; throws, saying which version
   * and why, when it cannot. Retries of one version are spaced by backoff: until its
   * pause is over, the last failure is thrown again without touching the disk.
   */
  prepare(next: DeploymentState): Promise<void>;
  /** Lets go of versions the deployment hosted and no longer does (an unload elsewhere). */
  replaced(previous: DeploymentState, next: DeploymentState): void;
}

/**
 * How a replica follows deployment changes made on other replicas: the model set
 * (`hosted`, with each file's SHA-256) is applied here before the change serves.
 */
export function createDeploymentFollower(deps: {
  host: ModelHost;
  logger: Logger;
  /** The first pause after a failure: one refresh of the deployments. */
  firstRetryMs: number;
  now?: () => number;
}): DeploymentFollower {
  const { host, logger } = deps;
  const now = deps.now ?? Date.now;
  const failing = new Map<string, { pause: Backoff; nextAt: number; error: Error }>();

  /** A session of `version` from this replica's disk, refused when its file is not `sha256`. */
  async function loadMatching(model: string, version: string, sha256: string | undefined) {
    const differs = (found: string) =>
      new Error(
        `${model}/${version}: model.onnx here has sha256 ${found}, the deployment serves ${sha256}`,
      );
    if (sha256 !== undefined) {
      const onDisk = host.fileSha256(model, version);
      if (onDisk !== sha256) throw differs(onDisk);
    }
    const fresh = await host.open(model, version, { report: false });
    if (sha256 !== undefined && fresh.sha256 !== sha256) {
      // The file changed between the hash and the read.
      await fresh.release();
      throw differs(fresh.sha256);
    }
    host.install(fresh);
  }

  async function ensure(state: DeploymentState, version: string): Promise<void> {
    const { model, revision } = state;
    const sha256 = state.hosted[version];
    const serving = host.get(model, version);
    if (serving && (sha256 === undefined || serving.sha256 === sha256)) return;
    const key = `${model}/${version}`;
    const last = failing.get(key);
    if (last && now() < last.nextAt) throw last.error;
    try {
      await loadMatching(model, version, sha256);
    } catch (caught) {
      const error = caught instanceof Error ? caught : new Error(String(caught));
      const pause = last?.pause ?? backoff({ firstMs: deps.firstRetryMs, lastMs: LAST_RETRY_MS });
      const retryInMs = pause.next();
      failing.set(key, { pause, nextAt: now() + retryInMs, error });
      logger.warn(
        { model, version, revision, reason: error.message, retryInMs },
        `${model}: cannot apply revision ${revision} on this replica yet, ${version} does not load: ${error.message} (next try in ${retryInMs} ms)`,
      );
      throw error;
    }
    if (last) {
      failing.delete(key);
      logger.info({ model, version, revision }, `${model}/${version} loaded: caught up`);
    }
  }

  return {
    async prepare(next) {
      for (const version of neededVersions(next)) await ensure(next, version);
    },
    replaced(previous, next) {
      const needed = new Set(neededVersions(next));
      for (const version of Object.keys(previous.hosted)) {
        if (needed.has(version) || !host.get(next.model, version)) continue;
        void host.unload(next.model, version);
      }
    },
  };
}
