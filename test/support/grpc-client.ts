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
import { z } from 'zod';

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

/**
 * The answers as the loader builds them (keepCase, longs as numbers, defaults filled in),
 * checked against the .proto's messages: a renamed field fails the test at the parse.
 */
const tensorMetadata = z.looseObject({
  name: z.string(),
  datatype: z.string(),
  shape: z.array(z.number()),
});
/** A oneof: only the member that is set is present, named by parameter_choice. */
const inferParameter = z.looseObject({
  parameter_choice: z.enum(['bool_param', 'int64_param', 'string_param']),
  bool_param: z.boolean().optional(),
  int64_param: z.number().optional(),
  string_param: z.string().optional(),
});
const contents = z.looseObject({
  bool_contents: z.array(z.boolean()),
  int_contents: z.array(z.number()),
  int64_contents: z.array(z.number()),
  uint_contents: z.array(z.number()),
  uint64_contents: z.array(z.number()),
  fp32_contents: z.array(z.number()),
  fp64_contents: z.array(z.number()),
  bytes_contents: z.array(z.instanceof(Buffer)),
});
const answers = {
  ServerLive: z.looseObject({ live: z.boolean() }),
  ServerReady: z.looseObject({ ready: z.boolean() }),
  ModelReady: z.looseObject({ ready: z.boolean() }),
  ServerMetadata: z.looseObject({
    name: z.string(),
    version: z.string(),
    extensions: z.array(z.string()),
  }),
  ModelMetadata: z.looseObject({
    name: z.string(),
    versions: z.array(z.string()),
    platform: z.string(),
    inputs: z.array(tensorMetadata),
    outputs: z.array(tensorMetadata),
  }),
  ModelInfer: z.looseObject({
    model_name: z.string(),
    model_version: z.string(),
    id: z.string(),
    parameters: z.record(z.string(), inferParameter),
    outputs: z.array(
      tensorMetadata.extend({
        parameters: z.record(z.string(), inferParameter),
        /** Null when the output travels in raw_output_contents. */
        contents: contents.nullable(),
      }),
    ),
    raw_output_contents: z.array(z.instanceof(Buffer)),
  }),
};
export type Method = keyof typeof answers;
export type Answer<M extends Method> = z.infer<(typeof answers)[M]>;

export interface InferenceClient {
  call<M extends Method>(
    method: M,
    request: object,
    metadata?: Record<string, string>,
  ): Promise<Answer<M>>;
  /** The answer with its initial metadata (headers). */
  callWithHeaders<M extends Method>(
    method: M,
    request: object,
    metadata?: Record<string, string>,
  ): Promise<{ response: Answer<M>; headers: Metadata }>;
  close(): void;
}

export function inferenceClient(
  address: string,
  channelOptions: Record<string, number | string> = {},
): InferenceClient {
  const client = new Service(address, credentials.createInsecure(), channelOptions);
  const callWithHeaders = <M extends Method>(
    method: M,
    request: object,
    pairs: Record<string, string> = {},
  ) =>
    new Promise<{ response: Answer<M>; headers: Metadata }>((done, fail) => {
      const metadata = new Metadata();
      for (const [key, value] of Object.entries(pairs)) metadata.set(key, value);
      let headers = new Metadata();
      const unary = client[method] as (
        request: object,
        metadata: Metadata,
        callback: (error: ServiceError | null, response: unknown) => void,
      ) => { on(event: 'metadata', listener: (m: Metadata) => void): void };
      const call = unary.call(client, request, metadata, (error, response) => {
        if (error) return fail(error);
        try {
          done({ response: answers[method].parse(response) as Answer<M>, headers });
        } catch (invalid) {
          fail(invalid);
        }
      });
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
