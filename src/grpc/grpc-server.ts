import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  type GrpcObject,
  status as GrpcStatus,
  loadPackageDefinition,
  Metadata,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServiceClientConstructor,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { AppError } from '../errors.js';
import type { OipService } from '../gateway/oip-service.js';
import { MAX_BODY_BYTES } from '../http/read-body.js';
import type { Metrics } from '../metrics.js';
import { grpcStatusOf } from './grpc-status.js';
import { type GrpcInferRequest, grpcInputs, grpcOutputs, parameterValue } from './grpc-tensors.js';

/** The protocol's service definition, shipped beside this file (the build copies it to dist/). */
export const PROTO_PATH = fileURLToPath(new URL('./open-inference.proto', import.meta.url));

/** Shapes of proto-loader's plain objects: snake_case as in the .proto, int64 as Number. */
export const PROTO_LOADER_OPTIONS = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
} as const;

export function loadInferenceService(): ServiceClientConstructor {
  const definition = loadPackageDefinition(loadSync(PROTO_PATH, PROTO_LOADER_OPTIONS));
  return (definition.inference as GrpcObject).GRPCInferenceService as ServiceClientConstructor;
}

export interface GrpcServing {
  port: number;
  /**
   * Stops taking calls and resolves once every open call has answered, or at `deadline`
   * (epoch ms), when those still open are cancelled (never answered, so no row is owed).
   */
  stop(deadline: number): Promise<{ cut: boolean }>;
}

export interface GrpcServerOptions {
  host: string;
  /** 0 binds an ephemeral port (tests); main.ts never passes 0 (it means off there). */
  port: number;
  onError: (error: unknown, requestId: string) => void;
  /** Calls are counted by method and status in modelgate_grpc_requests_total. */
  metrics: Pick<Metrics, 'grpcRequests'>;
}

/** A request id from metadata when it is a sane one (as X-Request-Id on REST), else a new one. */
const REQUEST_ID = /^[\w\-.:]{1,255}$/;
const requestIdOf = (metadata: Metadata): string => {
  const given = metadata.get('x-request-id')[0]?.toString();
  return given && REQUEST_ID.test(given) ? given : randomUUID();
};

const firstText = (metadata: Metadata, key: string): string | undefined =>
  metadata.get(key)[0]?.toString().trim() || undefined;

/** The inference.GRPCInferenceService over the same OIP service as REST. */
export function grpcHandlers(
  oip: OipService,
  options: Pick<GrpcServerOptions, 'onError' | 'metrics'>,
): UntypedServiceImplementation {
  const count = (method: string, code: GrpcStatus) =>
    options.metrics.grpcRequests.inc({ method, code: GrpcStatus[code] });
  const unary =
    <Req, Res>(
      method: string,
      answer: (
        request: Req,
        call: ServerUnaryCall<Req, Res>,
        requestId: string,
      ) => Promise<Res> | Res,
    ) =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      const requestId = requestIdOf(call.metadata);
      Promise.resolve()
        .then(() => answer(call.request, call, requestId))
        .then(
          (response) => {
            count(method, GrpcStatus.OK);
            callback(null, response);
          },
          (error: unknown) => {
            const code =
              error instanceof AppError ? grpcStatusOf(error.status) : GrpcStatus.INTERNAL;
            if (!(error instanceof AppError) || error.status >= 500)
              options.onError(error, requestId);
            count(method, code);
            const details =
              error instanceof AppError
                ? error.message
                : `unexpected error; request id ${requestId}`;
            const trailer = new Metadata();
            trailer.set('x-request-id', requestId);
            if (error instanceof AppError) trailer.set('x-error-code', error.code);
            callback({ code, details, metadata: trailer });
          },
        );
    };

  return {
    ServerLive: unary('ServerLive', () => ({ live: oip.serverLive() })),
    ServerReady: unary('ServerReady', () => ({ ready: oip.serverReadiness().ready })),
    ModelReady: unary('ModelReady', (request: { name: string; version: string }) => {
      try {
        oip.modelReady(request.name, request.version || undefined);
        return { ready: true };
      } catch (error) {
        // A model that is there but cannot serve is "not ready", as REST's 503; an unknown
        // one is NOT_FOUND, as REST's 404.
        if (error instanceof AppError && error.status === 503) return { ready: false };
        throw error;
      }
    }),
    ServerMetadata: unary('ServerMetadata', () => oip.serverMetadata()),
    ModelMetadata: unary('ModelMetadata', (request: { name: string; version: string }) => {
      const { parameters: _scalarsOnRestOnly, ...metadata } = oip.modelMetadata(
        request.name,
        request.version || undefined,
      );
      return metadata;
    }),
    ModelInfer: unary(
      'ModelInfer',
      async (
        request: GrpcInferRequest,
        call: ServerUnaryCall<GrpcInferRequest, unknown>,
        requestId,
      ) => {
        const parameter = (name: string) => {
          const value = parameterValue(request.parameters?.[name]);
          return typeof value === 'string' && value !== '' ? value : undefined;
        };
        const result = await oip.infer({
          model: request.model_name,
          version: request.model_version || undefined,
          userId: firstText(call.metadata, 'x-user-id') ?? parameter('userId'),
          sessionId: parameter('sessionId'),
          inputs: grpcInputs(request),
          outputs: request.outputs.length > 0 ? request.outputs.map((o) => o.name) : undefined,
          requestId,
        });
        const headers = new Metadata();
        headers.set('x-model-version', result.prediction.version);
        headers.set('x-request-id', requestId);
        call.sendMetadata(headers);
        return {
          model_name: result.prediction.model,
          model_version: result.prediction.version,
          id: request.id || requestId,
          parameters: {
            route: { string_param: result.parameters.route },
            prediction_ids: { string_param: result.parameters.prediction_ids },
          },
          ...grpcOutputs(result.outputs, (request.raw_input_contents ?? []).length > 0),
        };
      },
    ),
  };
}

/** Serves the gRPC service on its own port; resolves once bound. */
export async function startGrpcServer(
  oip: OipService,
  options: GrpcServerOptions,
): Promise<GrpcServing> {
  const server = new Server({
    // The same 1 MiB as a REST body: a larger message is RESOURCE_EXHAUSTED before it is read.
    'grpc.max_receive_message_length': MAX_BODY_BYTES,
  });
  server.addService(loadInferenceService().service, grpcHandlers(oip, options));
  const port = await new Promise<number>((bound, failed) => {
    server.bindAsync(
      `${options.host}:${options.port}`,
      ServerCredentials.createInsecure(),
      (error, port) => (error ? failed(error) : bound(port)),
    );
  });
  return {
    port,
    stop(deadline) {
      return new Promise((resolve) => {
        const cutAtDeadline = setTimeout(
          () => {
            server.forceShutdown();
            resolve({ cut: true });
          },
          Math.max(0, deadline - Date.now()),
        );
        // New calls are refused (GOAWAY: clients go elsewhere); open calls finish.
        server.tryShutdown(() => {
          clearTimeout(cutAtDeadline);
          resolve({ cut: false });
        });
      });
    },
  };
}
