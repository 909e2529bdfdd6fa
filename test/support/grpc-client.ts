import { resolve } from 'node:path';
import {
  credentials,
  type GrpcObject,
  loadPackageDefinition,
  Metadata,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/**
 * A client of inference.GRPCInferenceService generated at test time by
 * @grpc/proto-loader from the project's .proto, as any other language's generated client
 * would be: it knows the protocol, not modelgate.
 */
const PROTO = resolve(import.meta.dirname, '../../src/grpc/open-inference.proto');

const definition = loadPackageDefinition(
  loadSync(PROTO, { keepCase: true, longs: Number, defaults: true, oneofs: true }),
);
const Service = (definition.inference as GrpcObject)
  .GRPCInferenceService as ServiceClientConstructor;

// biome-ignore lint/suspicious/noExplicitAny: generated messages are asserted field by field
export type Message = any;

export interface InferenceClient {
  call(method: string, request: object, metadata?: Record<string, string>): Promise<Message>;
  /** The answer with its initial metadata (headers). */
  callWithHeaders(
    method: string,
    request: object,
    metadata?: Record<string, string>,
  ): Promise<{ response: Message; headers: Metadata }>;
  close(): void;
}

export function inferenceClient(
  address: string,
  channelOptions: Record<string, number | string> = {},
): InferenceClient {
  const client = new Service(address, credentials.createInsecure(), channelOptions);
  const callWithHeaders = (method: string, request: object, pairs: Record<string, string> = {}) =>
    new Promise<{ response: Message; headers: Metadata }>((done, fail) => {
      const metadata = new Metadata();
      for (const [key, value] of Object.entries(pairs)) metadata.set(key, value);
      let headers = new Metadata();
      const unary = client[method] as (
        request: object,
        metadata: Metadata,
        callback: (error: ServiceError | null, response: Message) => void,
      ) => { on(event: 'metadata', listener: (m: Metadata) => void): void };
      const call = unary.call(client, request, metadata, (error, response) =>
        error ? fail(error) : done({ response, headers }),
      );
      call.on('metadata', (m) => {
        headers = m;
      });
    });
  return {
    call: async (method, request, metadata) =>
      (await callWithHeaders(method, request, metadata)).response,
    callWithHeaders,
    close: () => client.close(),
  };
}

/** The error a call failed with (gRPC status code and details). */
export async function callError(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error('expected the call to fail');
}
