import { describe, expect, it } from 'vitest';
import { toElement } from '../models/element-types.js';
import { decodeElements, encodeByteStrings, encodeFp32 } from './binary-tensor.js';

/** Little-endian bytes written here with DataView, not with the codec under test. */
const bytesOf = (size: number, write: (view: DataView) => void) => {
  const bytes = new Uint8Array(size);
  write(new DataView(bytes.buffer));
  return bytes;
};

describe('binary tensor elements', () => {
  it('reads INT64 exactly: a number up to 2^53, its digits beyond (which INT64 inputs accept)', () => {
    const bytes = bytesOf(16, (view) => {
      view.setBigInt64(0, -42n, true);
      view.setBigInt64(8, 2n ** 62n + 1n, true);
    });
    const values = decodeElements('INT64', bytes, 2, 'inputs[0]');
    expect(values).toEqual([-42, '4611686018427387905']);
    expect(toElement('INT64', values[1])).toBe(2n ** 62n + 1n);
  });

  it('reads BOOL as one byte 0 or 1 and refuses anything else', () => {
    expect(decodeElements('BOOL', new Uint8Array([1, 0]), 2, 'x')).toEqual([true, false]);
    expect(() => decodeElements('BOOL', new Uint8Array([2]), 1, 'x')).toThrow('x[0]: BOOL byte');
  });

  it('reads BYTES as length-prefixed UTF-8, refusing lengths past the end and leftovers', () => {
    const encoded = encodeByteStrings(['setosa', 'é']);
    expect([...encoded.subarray(0, 4)]).toEqual([6, 0, 0, 0]);
    expect(decodeElements('BYTES', encoded, 2, 'x')).toEqual(['setosa', 'é']);
    expect(() => decodeElements('BYTES', encoded.subarray(0, 8), 2, 'x')).toThrow('runs past');
    expect(() => decodeElements('BYTES', encoded, 1, 'x')).toThrow('left after 1 elements');
  });

  it('writes FP32 little-endian and refuses a byte count that does not fit the shape', () => {
    const bytes = encodeFp32(new Float32Array([1.5]));
    expect(new DataView(bytes.buffer, bytes.byteOffset).getFloat32(0, true)).toBe(1.5);
    expect(() => decodeElements('FP32', new Uint8Array(6), 2, 'inputs[1]')).toThrow(
      'inputs[1]: FP32 with 2 elements needs 8 bytes of binary data, got 6',
    );
    expect(() => decodeElements('FP16', new Uint8Array(2), 1, 'x')).toThrow('cannot be read');
  });
});
