import { invalidInput } from '../errors.js';

/**
 * Tensor elements as raw bytes, the layout of Triton's binary tensor data extension and
 * of gRPC raw_input_contents / raw_output_contents: little-endian, row-major, no padding;
 * BOOL one byte (0 or 1); BYTES each element a 4-byte little-endian length, then its bytes.
 * Pure: bytes in, values out, and back.
 */

export type ElementValue = number | boolean | string;

/** Bytes per element of the fixed-size types this codec reads (FP16 has no JS number type). */
const FIXED_SIZES: Readonly<Record<string, number>> = {
  BOOL: 1,
  UINT8: 1,
  INT8: 1,
  UINT16: 2,
  INT16: 2,
  UINT32: 4,
  INT32: 4,
  FP32: 4,
  UINT64: 8,
  INT64: 8,
  FP64: 8,
};

export const elementCount = (shape: readonly number[]): number =>
  shape.reduce((product, dimension) => product * dimension, 1);

/**
 * Reads `count` elements of `datatype` from `bytes`; `at` names the tensor in messages
 * (`inputs[0]`). The byte length must match exactly: a short or long tensor is the
 * client's error, never padded or cut.
 */
export function decodeElements(
  datatype: string,
  bytes: Uint8Array,
  count: number,
  at: string,
): ElementValue[] {
  if (datatype === 'BYTES') return decodeByteStrings(bytes, count, at);
  const size = FIXED_SIZES[datatype];
  if (size === undefined) {
    throw invalidInput(`${at}.datatype: "${datatype}" cannot be read as binary data`);
  }
  if (bytes.length !== count * size) {
    throw invalidInput(
      `${at}: ${datatype} with ${count} elements needs ${count * size} bytes of binary data, got ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values: ElementValue[] = new Array(count);
  for (let i = 0; i < count; i++) {
    values[i] = readFixed(view, datatype, i * size, `${at}[${i}]`);
  }
  return values;
}

function readFixed(view: DataView, datatype: string, offset: number, at: string): ElementValue {
  switch (datatype) {
    case 'BOOL': {
      const byte = view.getUint8(offset);
      if (byte > 1) throw invalidInput(`${at}: BOOL byte must be 0 or 1, got ${byte}`);
      return byte === 1;
    }
    case 'UINT8':
      return view.getUint8(offset);
    case 'INT8':
      return view.getInt8(offset);
    case 'UINT16':
      return view.getUint16(offset, true);
    case 'INT16':
      return view.getInt16(offset, true);
    case 'UINT32':
      return view.getUint32(offset, true);
    case 'INT32':
      return view.getInt32(offset, true);
    case 'FP32':
      return view.getFloat32(offset, true);
    case 'FP64':
      return view.getFloat64(offset, true);
    case 'UINT64':
      return exactInteger(view.getBigUint64(offset, true));
    default:
      return exactInteger(view.getBigInt64(offset, true));
  }
}

/**
 * A 64-bit integer as a JS number when that is exact, else as its decimal string: the
 * form JSON clients use for INT64 beyond 2^53, which the element types accept
 * (models/element-types.ts), so no digit is lost between the bytes and the model.
 */
function exactInteger(value: bigint): number | string {
  return value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)
    ? value.toString()
    : Number(value);
}

function decodeByteStrings(bytes: Uint8Array, count: number, at: string): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const values: string[] = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    if (offset + 4 > bytes.length) {
      throw invalidInput(`${at}[${i}]: binary data ends before element ${i}'s 4-byte length`);
    }
    const length = view.getUint32(offset, true);
    offset += 4;
    if (offset + length > bytes.length) {
      throw invalidInput(`${at}[${i}]: length ${length} runs past the end of the binary data`);
    }
    try {
      values.push(decoder.decode(bytes.subarray(offset, offset + length)));
    } catch {
      throw invalidInput(`${at}[${i}]: not valid UTF-8`);
    }
    offset += length;
  }
  if (offset !== bytes.length) {
    throw invalidInput(
      `${at}: ${bytes.length - offset} bytes of binary data left after ${count} elements`,
    );
  }
  return values;
}

/** FP32 values as little-endian bytes. */
export function encodeFp32(values: Float32Array): Buffer {
  const bytes = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) bytes.writeFloatLE(values[i] as number, i * 4);
  return bytes;
}

/** FP64 values as little-endian bytes. */
export function encodeFp64(values: Float64Array): Buffer {
  const bytes = Buffer.alloc(values.length * 8);
  for (let i = 0; i < values.length; i++) bytes.writeDoubleLE(values[i] as number, i * 8);
  return bytes;
}

/** An output tensor's binary data, in its own datatype (REST binary and gRPC raw contents). */
export function encodeOutput(
  output:
    | { datatype: 'FP32'; data: Float32Array }
    | { datatype: 'FP64'; data: Float64Array }
    | { datatype: 'BYTES'; data: string[] },
): Buffer {
  if (output.datatype === 'FP32') return encodeFp32(output.data);
  if (output.datatype === 'FP64') return encodeFp64(output.data);
  return encodeByteStrings(output.data);
}

/** BYTES elements: each a 4-byte little-endian length, then its UTF-8 bytes. */
export function encodeByteStrings(values: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const value of values) {
    const encoded = Buffer.from(value, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32LE(encoded.length, 0);
    parts.push(length, encoded);
  }
  return Buffer.concat(parts);
}
