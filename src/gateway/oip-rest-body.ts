import { badRequest, invalidInput } from '../errors.js';
import { decodeElements, elementCount, encodeOutput } from './binary-tensor.js';
import type { InferRequest, OipInput, Parameters } from './oip-input.js';
import type { OipInferResult } from './oip-service.js';

/**
 * The REST body of an infer call with Triton's binary tensor data extension: a JSON
 * object, then the tensors' raw bytes in the order of the inputs (or outputs) that carry
 * `parameters.binary_data_size`. `Inference-Header-Content-Length` gives the JSON's
 * length; without it the whole body is JSON.
 */
export const HEADER_LENGTH_HEADER = 'Inference-Header-Content-Length';

export function splitInferBody(
  body: Buffer,
  headerLength: string | undefined,
): { json: string; binary: Buffer } {
  if (headerLength === undefined) return { json: body.toString('utf8'), binary: Buffer.alloc(0) };
  const length = /^\d+$/.test(headerLength.trim()) ? Number(headerLength) : Number.NaN;
  if (!Number.isSafeInteger(length) || length > body.length) {
    throw badRequest(
      `${HEADER_LENGTH_HEADER}: expected the JSON's length in bytes (0 to ${body.length}), got "${headerLength}"`,
    );
  }
  return {
    json: body.subarray(0, length).toString('utf8'),
    binary: body.subarray(length),
  };
}

/** The request's inputs with binary data decoded in place of `data`. */
export function restInputs(request: InferRequest, binary: Buffer): OipInput[] {
  let offset = 0;
  const inputs = request.inputs.map((input, i): OipInput => {
    const at = `inputs[${i}]`;
    const size = input.parameters?.binary_data_size;
    if (size === undefined) {
      if (input.data === undefined) {
        throw invalidInput(`${at}.data: required (or parameters.binary_data_size for binary data)`);
      }
      return { name: input.name, datatype: input.datatype, shape: input.shape, data: input.data };
    }
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      throw invalidInput(`${at}.parameters.binary_data_size: expected a byte count, got ${size}`);
    }
    if (input.data !== undefined) {
      throw invalidInput(`${at}: has both data and parameters.binary_data_size; send one`);
    }
    if (offset + size > binary.length) {
      throw invalidInput(
        `${at}.parameters.binary_data_size: ${size} bytes from byte ${offset}, but only ${binary.length} bytes of binary data follow the JSON`,
      );
    }
    const bytes = binary.subarray(offset, offset + size);
    offset += size;
    return {
      name: input.name,
      datatype: input.datatype,
      shape: input.shape,
      data: decodeElements(input.datatype, bytes, elementCount(input.shape), at),
    };
  });
  if (offset !== binary.length) {
    throw invalidInput(
      `body: ${binary.length} bytes of binary data follow the JSON, but the inputs' binary_data_size add up to ${offset}`,
    );
  }
  return inputs;
}

/**
 * Whether an output goes back as binary data: its own `binary_data` parameter, else the
 * request's `binary_data_output`, else JSON.
 */
function wantsBinary(request: InferRequest, output: string): boolean {
  const own = request.outputs?.find((o) => o.name === output)?.parameters?.binary_data;
  const all = request.parameters?.binary_data_output;
  return flag(own) ?? flag(all) ?? false;
}

const flag = (value: Parameters[string] | undefined): boolean | undefined =>
  typeof value === 'boolean' ? value : undefined;

/**
 * The REST response: plain JSON, or (when any output is asked for as binary) the JSON
 * header followed by those outputs' bytes, with the header's length to split them.
 */
export function restInferResponse(
  request: InferRequest,
  requestId: string,
  result: OipInferResult,
): { json: object; binary: Buffer[] } {
  const binary: Buffer[] = [];
  const outputs = result.outputs.map((output) => {
    const { name, datatype, shape } = output;
    if (!wantsBinary(request, name)) {
      return { name, datatype, shape, data: Array.from<number | string>(output.data) };
    }
    const bytes = encodeOutput(output);
    binary.push(bytes);
    return { name, datatype, shape, parameters: { binary_data_size: bytes.length } };
  });
  return {
    json: {
      model_name: result.prediction.model,
      model_version: result.prediction.version,
      id: request.id ?? requestId,
      parameters: result.parameters,
      outputs,
    },
    binary,
  };
}
