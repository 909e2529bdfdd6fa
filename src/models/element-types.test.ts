import { describe, expect, it } from 'vitest';
import {
  allocate,
  concatValues,
  FP32_MAX,
  store,
  toElement,
  toJsonValue,
} from './element-types.js';

describe('toElement', () => {
  it('accepts what each element type can hold and refuses the rest', () => {
    expect(toElement('FP32', 1.5)).toBe(1.5);
    expect(toElement('FP32', FP32_MAX * 2)).toBeUndefined();
    expect(toElement('FP32', '1.5')).toBeUndefined();
    expect(toElement('FP64', FP32_MAX * 2)).toBe(FP32_MAX * 2);
    expect(toElement('FP64', Number.NaN)).toBeUndefined();
    expect(toElement('INT32', 2 ** 31)).toBeUndefined();
    expect(toElement('INT32', -7)).toBe(-7);
    expect(toElement('INT64', 41)).toBe(41n);
    expect(toElement('INT64', 4.5)).toBeUndefined();
    expect(toElement('INT64', 2 ** 60)).toBeUndefined();
    expect(toElement('INT64', '9223372036854775807')).toBe(9223372036854775807n);
    expect(toElement('INT64', '9223372036854775808')).toBeUndefined();
    expect(toElement('BOOL', true)).toBe(true);
    expect(toElement('BOOL', 1)).toBeUndefined();
    expect(toElement('BYTES', 'Oslo')).toBe('Oslo');
    expect(toElement('BYTES', 3)).toBeUndefined();
  });
});

describe('store and concatValues', () => {
  it('packs elements into the array ONNX Runtime takes and joins batches in order', () => {
    const a = allocate('BOOL', 2);
    store(a, 0, true);
    store(a, 1, false);
    const b = allocate('BOOL', 1);
    store(b, 0, true);
    expect([...concatValues('BOOL', [a, b])]).toEqual([1, 0, 1]);
    const big = allocate('INT64', 1);
    store(big, 0, 3n);
    expect([...concatValues('INT64', [big, big])]).toEqual([3n, 3n]);
    expect(concatValues('BYTES', [['x'], ['y', 'z']])).toEqual(['x', 'y', 'z']);
  });

  it('writes INT64 beyond 2^53 as an exact string for JSON', () => {
    expect(toJsonValue(9007199254740993n)).toBe('9007199254740993');
    expect(toJsonValue(12n)).toBe(12);
  });
});
