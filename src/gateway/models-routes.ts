import { Hono } from 'hono';
import type { DeploymentStore } from '../db/deployments.js';
import type { ModelHost } from '../models/model-host.js';
import type { HostedVersion } from '../models/onnx-host.js';
import type { FlagSource } from './flags.js';
import { flagName } from './routing.js';

/** GET /models: what is loaded and how traffic is split, in one look. */
function inferenceOf(hosted: HostedVersion) {
  const { placement, singleRowUs } = hosted.inference;
  const worker = hosted.inference.worker();
  return {
    placement,
    singleRowUs: Math.round(singleRowUs),
    ...(worker
      ? {
          worker: {
            running: worker.running,
            restarts: worker.restarts,
            callsInFlight: worker.callsInFlight,
            lastStop: worker.lastStop,
          },
        }
      : {}),
  };
}

export function modelsRoutes(deps: {
  host: ModelHost;
  deployments: DeploymentStore;
  flags: FlagSource;
  flagPrefix: string;
}) {
  return new Hono().get('/models', (c) => {
    const failures = deps.host.failures();
    const names = new Set([...deps.host.models(), ...failures.map((f) => f.model)]);
    return c.json({
      flags: deps.flags.status(),
      /** Versions found on disk that could not be loaded, with why. */
      failed: failures,
      models: [...names].sort().map((model) => {
        const state = deps.deployments.get(model);
        return {
          name: model,
          versions: deps.host.versions(model).map((version) => {
            const hosted = deps.host.get(model, version);
            return {
              version,
              description: hosted?.manifest.description ?? null,
              task: hosted?.task ?? null,
              inputs:
                hosted?.inputs.map(({ name, datatype, shape }) => ({ name, datatype, shape })) ??
                [],
              features: hosted?.features ?? [],
              labels: hosted?.labels ?? [],
              /** How the graph was read: which output, which labels, which transform, and why. */
              contract: hosted?.contract.notes ?? [],
              metrics: hosted?.manifest.metrics ?? {},
              /**
               * inline or worker thread, the single-row run time that decided it, and a
               * worker's health: up or being started again, restarts, its last stop.
               */
              inference: hosted ? inferenceOf(hosted) : null,
            };
          }),
          live: state?.live ?? null,
          standby: state?.standby ?? null,
          pinned: state?.pinned ?? false,
          split: state?.split ?? null,
          splitSource: state?.source ?? 'local',
          flag: flagName(deps.flagPrefix, model),
          shadow: state?.shadow ?? null,
          failed: failures
            .filter((f) => f.model === model)
            .map(({ version, reason, graph }) => ({
              version,
              reason,
              ...(graph ? { graph } : {}),
            })),
        };
      }),
    });
  });
}
