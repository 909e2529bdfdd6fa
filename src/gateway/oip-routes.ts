import { type Context, Hono } from 'hono';
import type { DeploymentStore } from '../db/deployments.js';
import type { Storage, StorageHealth } from '../db/storage.js';
import { AppError, invalidInput, modelNotFound } from '../errors.js';
import { readJson } from '../http/read-json.js';
import type { ModelHost } from '../models/model-host.js';
import { type HostedVersion, PROBABILITIES_OUTPUT } from '../models/onnx-host.js';
import { parseInferRequest, stringParameter, toInferRows } from './oip-input.js';
import { setPredictionHeaders } from './prediction-headers.js';
import type { Predictor } from './predictor.js';

const LABEL_OUTPUT = 'label';
const OUTPUT_NAMES: readonly string[] = [PROBABILITIES_OUTPUT, LABEL_OUTPUT];

/**
 * KServe / Triton Open Inference Protocol v2 (REST), so their clients call
 * modelgate unchanged. An infer without a version is routed like /predict.
 */
/** What /v2/health/ready reports about storage: its health, which one, and whether it leads. */
export type StorageReadiness = StorageHealth & {
  kind: Storage['kind'];
  /** Whether this replica drives progressive rollouts (exactly one does). */
  leads: boolean;
};

export function oipRoutes(deps: {
  host: ModelHost;
  deployments: DeploymentStore;
  predictor: Predictor;
  storage: () => StorageReadiness;
}) {
  const { host, deployments, predictor } = deps;

  const metadata = (hosted: HostedVersion) => ({
    name: hosted.model,
    versions: host.versions(hosted.model),
    platform: 'onnxruntime_onnx',
    inputs: [hosted.input],
    outputs: [...hosted.outputs, { name: LABEL_OUTPUT, datatype: 'BYTES', shape: [-1] }],
    parameters: { features: hosted.features, labels: hosted.labels },
  });

  /** Why `model` cannot serve its live version here, or null when it can. */
  const unservable = (model: string) => {
    const state = deployments.get(model);
    if (!state || host.get(model, state.live)) return null;
    const failure = host.failures().find((f) => f.model === model && f.version === state.live);
    return {
      model,
      version: state.live,
      reason: failure?.reason ?? `${model}/${state.live} is not in the models directory`,
    };
  };

  const liveOf = (model: string): HostedVersion => {
    const state = deployments.get(model);
    if (!state) throw modelNotFound(model);
    const why = unservable(model);
    if (why) throw new AppError(503, 'unavailable', `${model} is not ready: ${why.reason}`);
    return host.require(model, state.live);
  };

  const infer = async (c: Context, version: string | undefined) => {
    const model = c.req.param('model') as string;
    const request = parseInferRequest(await readJson(c));
    const wanted = request.outputs?.map((o) => o.name);
    // Checked before routing: a request that will be refused never runs the model or writes a row.
    for (const name of wanted ?? []) {
      if (!OUTPUT_NAMES.includes(name)) {
        throw invalidInput(`outputs: unknown output "${name}" (have ${OUTPUT_NAMES.join(', ')})`);
      }
    }
    const userId = c.req.header('x-user-id')?.trim() || stringParameter(request, 'userId');
    const sessionId = stringParameter(request, 'sessionId');
    const result = await predictor.predict({
      model,
      override: version ?? (c.req.header('x-model-version') || undefined),
      context: userId ? { userId } : sessionId ? { sessionId } : {},
      requestId: c.get('requestId'),
      toRows: (hosted) => toInferRows(request, hosted),
    });
    const rows = result.outputs.length;
    const outputs = [
      {
        name: PROBABILITIES_OUTPUT,
        datatype: 'FP32',
        shape: [rows, result.labels.length],
        data: Array.from(result.probabilities),
      },
      {
        name: LABEL_OUTPUT,
        datatype: 'BYTES',
        shape: [rows],
        data: result.outputs.map((o) => o.label),
      },
    ];
    setPredictionHeaders(c, result);
    return c.json({
      model_name: result.model,
      model_version: result.version,
      id: request.id ?? c.get('requestId'),
      parameters: { route: result.route, prediction_ids: result.predictionIds },
      outputs: wanted ? outputs.filter((o) => wanted.includes(o.name)) : outputs,
    });
  };

  return new Hono()
    .get('/v2', (c) => c.json({ name: 'modelgate', version: '0.1.0', extensions: [] }))
    .get('/v2/health/live', (c) => c.json({ live: true }))
    .get('/v2/health/ready', (c) => {
      // Ready when every model can serve its live version and its predictions can be
      // logged. A database outage alone is reported, not failed: every replica shares the
      // database, so failing readiness would take them all out of the load balancer at once.
      // A model whose live version cannot load is reported, not failed: its requests get
      // 503, and failing the replica would stop every other model it serves as well.
      const storage = deps.storage();
      const states = deployments.all();
      const behind = deployments.lagging();
      const notReady = states.flatMap((s) => {
        const why = unservable(s.model);
        return why ? [why] : [];
      });
      const ready =
        notReady.length < states.length && host.models().length > 0 && storage.accepting;
      return c.json(
        {
          ready,
          degraded: !storage.ok,
          ...(notReady.length > 0 ? { notReady } : {}),
          // Deployments changed elsewhere that this replica cannot apply yet (it serves the previous one).
          ...(behind.length > 0 ? { behind } : {}),
          storage,
        },
        ready ? 200 : 503,
      );
    })
    .get('/v2/models/:model', (c) => c.json(metadata(liveOf(c.req.param('model')))))
    .get('/v2/models/:model/versions/:version', (c) =>
      c.json(metadata(host.require(c.req.param('model'), c.req.param('version')))),
    )
    .get('/v2/models/:model/ready', (c) => {
      const hosted = liveOf(c.req.param('model'));
      return c.json({ name: hosted.model, version: hosted.version, ready: true });
    })
    .get('/v2/models/:model/versions/:version/ready', (c) => {
      const hosted = host.require(c.req.param('model'), c.req.param('version'));
      return c.json({ name: hosted.model, version: hosted.version, ready: true });
    })
    .post('/v2/models/:model/infer', (c) => infer(c, undefined))
    .post('/v2/models/:model/versions/:version/infer', (c) => infer(c, c.req.param('version')));
}
