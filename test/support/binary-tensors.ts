/**
 * Triton's binary tensor data extension, built and read byte by byte from its documented
 * layout (extension_binary_data.md), independently of modelgate's own codec: a JSON
 * object, then each binary tensor little-endian and row-major; BYTES elements as a 4-byte
 * little-endian length followed by the bytes; `Inference-Header-Content-Length` is the
 * JSON's byte length.
 */
import { parseAs, schemas } from './responses.js';

export function fp32Bytes(values: readonly number[]): Buffer {
  const bytes = Buffer.alloc(values.length * 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (const [i, value] of values.entries()) view.setFloat32(i * 4, value, true);
  return bytes;
}

export function fp64Bytes(values: readonly number[]): Buffer {
  const bytes = Buffer.alloc(values.length * 8);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (const [i, value] of values.entries()) view.setFloat64(i * 8, value, true);
  return bytes;
}

export function readFp32(bytes: Buffer): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  return Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

export function readByteStrings(bytes: Buffer): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const out: string[] = [];
  for (let offset = 0; offset < bytes.length; ) {
    const length = view.getUint32(offset, true);
    out.push(bytes.subarray(offset + 4, offset + 4 + length).toString('utf8'));
    offset += 4 + length;
  }
  return out;
}

/** A request body and its headers: the JSON, then the tensors' bytes in input order. */
export function binaryRequest(
  header: object,
  tensors: readonly Buffer[],
): { body: Buffer; headers: Record<string, string> } {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  return {
    body: Buffer.concat([json, ...tensors]),
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(json.length),
    },
  };
}

/** A binary response split by its header: the JSON, and each binary output's bytes by name. */
export async function readBinaryResponse(res: Response) {
  const body = Buffer.from(await res.arrayBuffer());
  const length = Number(res.headers.get('inference-header-content-length'));
  const json = parseAs(schemas.inferAnswer, JSON.parse(body.subarray(0, length).toString('utf8')));
  const tensors: Record<string, Buffer> = {};
  let offset = length;
  for (const output of json.outputs) {
    const size = output.parameters?.binary_data_size;
    if (size === undefined) continue;
    tensors[output.name] = body.subarray(offset, offset + size);
    offset += size;
  }
  if (offset !== body.length) throw new Error(`${body.length - offset} bytes left after outputs`);
  return { json, tensors };
}
