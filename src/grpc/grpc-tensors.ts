import { invalidInput } from '../errors.js';
import {
  decodeElements,
  type ElementValue,
  elementCount,
  encodeOutput,
} from '../gateway/binary-tensor.js';
import type { OipInput } from '../gateway/oip-input.js';
import type { OipOutputTensor } from '../gateway/oip-service.js';

/**
 * ModelInferRequest tensors to the OIP service's inputs and its outputs back, in either
 * of the protocol's representations: typed `contents`, or `raw_input_contents` /
 * `raw_output_contents` in the binary layout. Pure, on the shapes @grpc/proto-loader
 * produces (keepCase, int64 as Number, bytes as Buffer).
 */

export interface TensorContents {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: number[];
  uint_contents?: number[];
  uint64_contents?: number[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Buffer[];
}

export interface InferParameter {
  bool_param?: boolean;
  int64_param?: number;
  string_param?: string;
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param';
}

export interface GrpcInputTensor {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: Record<string, InferParameter>;
  contents?: TensorContents | null;
}

export interface GrpcInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters?: Record<string, InferParameter>;
  inputs: GrpcInputTensor[];
  outputs: Array<{ name: string; parameters?: Record<string, InferParameter> }>;
  raw_input_contents: Buffer[];
}

export interface GrpcOutputTensor {
  name: string;
  datatype: string;
  shape: number[];
  contents?: TensorContents;
}

/** The typed field each datatype travels in (inference_grpc.md, "Tensor Data"). */
const CONTENTS_FIELD: Readonly<Record<string, keyof TensorContents>> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};

/** The value of a parameter, whichever of its three kinds it holds. */
export function parameterValue(
  parameter: InferParameter | undefined,
): boolean | number | string | undefined {
  const choice = parameter?.parameter_choice;
  return choice ? parameter[choice] : undefined;
}

export function grpcInputs(request: GrpcInferRequest): OipInput[] {
  const raw = request.raw_input_contents ?? [];
  if (raw.length > 0 && raw.length !== request.inputs.length) {
    throw invalidInput(
      `raw_input_contents: ${raw.length} entries for ${request.inputs.length} inputs (one per input, in order)`,
    );
  }
  return request.inputs.map((input, i) => {
    const at = `inputs[${i}]`;
    const shape = input.shape.map(Number);
    const bytes = raw[i];
    let data: ElementValue[];
    if (bytes !== undefined) {
      if (hasContents(input.contents)) {
        throw invalidInput(`${at}.contents: not allowed together with raw_input_contents`);
      }
      data = decodeElements(input.datatype, bytes, elementCount(shape), at);
    } else {
      const field = CONTENTS_FIELD[input.datatype];
      if (!field) throw invalidInput(`${at}.datatype: unknown datatype "${input.datatype}"`);
      const values = input.contents?.[field] ?? [];
      data =
        field === 'bytes_contents'
          ? (values as Buffer[]).map((value) => value.toString('utf8'))
          : (values as Array<number | boolean>);
    }
    return { name: input.name, datatype: input.datatype, shape, data };
  });
}

const hasContents = (contents: TensorContents | null | undefined): boolean =>
  contents != null && Object.values(contents).some((values) => (values?.length ?? 0) > 0);

/**
 * Outputs as the request's inputs came: raw bytes when it sent raw_input_contents (what
 * Triton's client does and expects back), typed contents otherwise.
 */
export function grpcOutputs(
  outputs: readonly OipOutputTensor[],
  raw: boolean,
): { outputs: GrpcOutputTensor[]; raw_output_contents: Buffer[] } {
  if (raw) {
    return {
      outputs: outputs.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
      raw_output_contents: outputs.map((output) => encodeOutput(output)),
    };
  }
  return {
    outputs: outputs.map((output) => ({
      name: output.name,
      datatype: output.datatype,
      shape: output.shape,
      contents:
        output.datatype === 'FP32'
          ? { fp32_contents: Array.from(output.data) }
          : output.datatype === 'FP64'
            ? { fp64_contents: Array.from(output.data) }
            : { bytes_contents: output.data.map((label) => Buffer.from(label, 'utf8')) },
    })),
    raw_output_contents: [],
  };
}
