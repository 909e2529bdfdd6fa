import type { DeploymentStore } from '../db/deployments.js';
import type { Storage, StorageHealth } from '../db/storage.js';
import { AppError, invalidInput, modelNotFound } from '../errors.js';
import type { ModelHost } from '../models/model-host.js';
import type { HostedVersion } from '../models/onnx-host.js';
import { type OipInput, toInferRows } from './oip-input.js';
import type { Predictor, PredictResult } from './predictor.js';

/**
 * The Open Inference Protocol v2 as one service that both transports call: REST
 * (oip-routes.ts) and gRPC (src/grpc/) only translate their wire format to these
 * calls, so routing, stickiness, overrides, logging and shadowing cannot drift apart.
 */

export const SERVER_NAME = 'modelgate';
export const SERVER_VERSION = '0.1.0';
/** What GET /v2 and ServerMetadata list: Triton's name for the binary tensor data extension. */
export const EXTENSIONS: readonly string[] = ['binary_tensor_data'];

export const PROBABILITIES_OUTPUT = 'probabilities';
export const LABEL_OUTPUT = 'label';

/**
 * The tensors an infer answers with: a classifier's `probabilities` [N, labels] and
 * `label` [N]; a regressor's value output under the graph's own name, [N, 1], in the
 * graph's own datatype (FP32, or FP64 from a double graph).
 */
export function servedOutputs(hosted: HostedVersion): OipTensorMetadata[] {
  const { reading } = hosted.contract;
  if (reading.task === 'regression') {
    const graphType = hosted.outputs.find((o) => o.name === reading.value)?.datatype;
    return [
      { name: reading.value, datatype: graphType === 'FP64' ? 'FP64' : 'FP32', shape: [-1, 1] },
    ];
  }
  return [
    { name: PROBABILITIES_OUTPUT, datatype: 'FP32', shape: [-1, hosted.labels.length] },
    { name: LABEL_OUTPUT, datatype: 'BYTES', shape: [-1] },
  ];
}

/** What /v2/health/ready reports about storage: its health, which one, and whether it leads. */
export type StorageReadiness = StorageHealth & {
  kind: Storage['kind'];
  /** Whether this replica drives progressive rollouts (exactly one does). */
  leads: boolean;
};

/**
 * The gRPC listener as readiness sees it: `off` when MODELGATE_GRPC_PORT is 0,
 * `starting` until it is bound, `stopped` once a stop began. Anything but `off` and
 * `listening` makes the replica not ready, so a load balancer that sends both protocols
 * never routes to a replica that serves only one.
 */
export type GrpcListenerState = 'off' | 'starting' | 'listening' | 'stopped';

export interface OipTensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: OipTensorMetadata[];
  outputs: OipTensorMetadata[];
  /** Scalar values only, as the specification's $parameters requires: lists are comma-separated. */
  parameters: { task: string; features: string; labels: string };
}

export interface ServerReadiness {
  ready: boolean;
  degraded: boolean;
  notReady?: Array<{ model: string; version: string; reason: string }>;
  behind?: ReturnType<DeploymentStore['lagging']>;
  storage: StorageReadiness;
  listeners: { http: 'listening'; grpc: GrpcListenerState };
}

/** One infer call, whatever the transport. */
export interface OipInferCall {
  model: string;
  /** A version in the path (REST) or `model_version` (gRPC): an override, as on /predict. */
  version?: string | undefined;
  userId?: string | undefined;
  sessionId?: string | undefined;
  inputs: OipInput[];
  /** Names of the outputs asked for; all when undefined. */
  outputs?: string[] | undefined;
  requestId: string;
}

export type OipOutputTensor =
  | { name: string; datatype: 'FP32'; shape: number[]; data: Float32Array }
  | { name: string; datatype: 'FP64'; shape: number[]; data: Float64Array }
  | { name: string; datatype: 'BYTES'; shape: number[]; data: string[] };

export interface OipInferResult {
  prediction: PredictResult;
  outputs: OipOutputTensor[];
  /** The response's $parameters: scalars only, so the prediction ids are comma-separated. */
  parameters: { route: string; prediction_ids: string };
}

export interface OipService {
  serverMetadata(): { name: string; version: string; extensions: string[] };
  serverLive(): boolean;
  serverReadiness(): ServerReadiness;
  modelMetadata(model: string, version?: string): ModelMetadata;
  /** The version that answers for `model` (or the one named); throws 404/503 like infer would. */
  modelReady(model: string, version?: string): HostedVersion;
  infer(call: OipInferCall): Promise<OipInferResult>;
}

export function createOipService(deps: {
  host: ModelHost;
  deployments: DeploymentStore;
  predictor: Predictor;
  storage: () => StorageReadiness;
  grpcListener: () => GrpcListenerState;
}): OipService {
  const { host, deployments, predictor } = deps;

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

  const hostedFor = (model: string, version?: string) =>
    version === undefined || version === '' ? liveOf(model) : host.require(model, version);

  return {
    serverMetadata: () => ({
      name: SERVER_NAME,
      version: SERVER_VERSION,
      extensions: [...EXTENSIONS],
    }),
    serverLive: () => true,
    serverReadiness() {
      // Ready when every model can serve its live version and its predictions can be
      // logged. A database outage alone is reported, not failed: every replica shares the
      // database, so failing readiness would take them all out of the load balancer at once.
      // A model whose live version cannot load is reported, not failed: its requests get
      // 503, and failing the replica would stop every other model it serves as well.
      const storage = deps.storage();
      const grpc = deps.grpcListener();
      const states = deployments.all();
      const behind = deployments.lagging();
      const notReady = states.flatMap((s) => {
        const why = unservable(s.model);
        return why ? [why] : [];
      });
      // A worker thread being started again after a stop: its version answers 500 until it
      // is up. Reported, not failed, like a version that cannot load; it mends itself.
      const workersDown = host.models().flatMap((model) =>
        host.versions(model).flatMap((version) => {
          const worker = host.get(model, version)?.inference.worker();
          return worker && !worker.running
            ? [{ model, version, restarts: worker.restarts, lastStop: worker.lastStop }]
            : [];
        }),
      );
      const ready =
        notReady.length < states.length &&
        host.models().length > 0 &&
        storage.accepting &&
        (grpc === 'off' || grpc === 'listening');
      return {
        ready,
        degraded: !storage.ok,
        ...(notReady.length > 0 ? { notReady } : {}),
        ...(workersDown.length > 0 ? { inferenceWorkersDown: workersDown } : {}),
        // Deployments changed elsewhere that this replica cannot apply yet (it serves the previous one).
        ...(behind.length > 0 ? { behind } : {}),
        storage,
        listeners: { http: 'listening', grpc },
      };
    },
    modelMetadata(model, version) {
      const hosted = hostedFor(model, version);
      return {
        name: hosted.model,
        versions: host.versions(hosted.model),
        platform: 'onnxruntime_onnx',
        inputs: hosted.inputs.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
        outputs: servedOutputs(hosted),
        parameters: {
          task: hosted.task,
          features: hosted.features.join(','),
          labels: hosted.labels.join(','),
        },
      };
    },
    modelReady: hostedFor,
    async infer(call) {
      // Checked once routed (versions may differ in outputs), before the model runs:
      // a request that will be refused never writes a row.
      const checkOutputs = (hosted: HostedVersion) => {
        const have = servedOutputs(hosted).map((o) => o.name);
        for (const name of call.outputs ?? []) {
          if (!have.includes(name)) {
            throw invalidInput(`outputs: unknown output "${name}" (have ${have.join(', ')})`);
          }
        }
      };
      const prediction = await predictor.predict({
        model: call.model,
        override: call.version || undefined,
        context: call.userId
          ? { userId: call.userId }
          : call.sessionId
            ? { sessionId: call.sessionId }
            : {},
        requestId: call.requestId,
        toRows: (hosted) => {
          checkOutputs(hosted);
          return toInferRows(call.inputs, hosted);
        },
      });
      const rows = prediction.outputs.length;
      const { reading, scores } = prediction;
      const fp32 = () => (scores instanceof Float32Array ? scores : Float32Array.from(scores));
      // A regressor's values come back in the graph's datatype: a double graph's stay FP64.
      const value: OipOutputTensor | null =
        reading.task !== 'regression'
          ? null
          : scores instanceof Float64Array
            ? { name: reading.value, datatype: 'FP64', shape: [rows, 1], data: scores }
            : { name: reading.value, datatype: 'FP32', shape: [rows, 1], data: fp32() };
      const all: OipOutputTensor[] = value
        ? [value]
        : [
            {
              name: PROBABILITIES_OUTPUT,
              datatype: 'FP32',
              shape: [rows, prediction.labels.length],
              data: fp32(),
            },
            {
              name: LABEL_OUTPUT,
              datatype: 'BYTES',
              shape: [rows],
              data: prediction.outputs.map((o) => ('label' in o ? o.label : '')),
            },
          ];
      const wanted = call.outputs;
      return {
        prediction,
        // In the order asked for: binary data follows the outputs in that order.
        outputs: wanted ? wanted.flatMap((name) => all.filter((o) => o.name === name)) : all,
        parameters: { route: prediction.route, prediction_ids: prediction.predictionIds.join(',') },
      };
    },
  };
}
