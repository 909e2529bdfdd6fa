/**
 * The element types a model input or output may have, named as the Open Inference
 * Protocol names them (FP32, INT64, BYTES…), and how a JSON value becomes one. Pure:
 * the /predict parser, the OIP JSON parser and the OIP binary extension share it, so a
 * value is accepted or refused the same way whichever way it arrives.
 */
export const ELEMENT_TYPES = ['FP32', 'FP64', 'INT32', 'INT64', 'BOOL', 'BYTES'] as const;
export type ElementType = (typeof ELEMENT_TYPES)[number];

/** ONNX Runtime's tensor type for each element type. */
export const ORT_TYPE_OF = {
  FP32: 'float32',
  FP64: 'float64',
  INT32: 'int32',
  INT64: 'int64',
  BOOL: 'bool',
  BYTES: 'string',
} as const satisfies Record<ElementType, string>;

const ELEMENT_TYPE_OF_ORT: Record<string, ElementType> = Object.fromEntries(
  Object.entries(ORT_TYPE_OF).map(([element, ort]) => [ort, element as ElementType]),
);

/** The element type of an ONNX Runtime tensor type, or undefined for one modelgate cannot feed. */
export const elementTypeOfOrt = (ortType: string): ElementType | undefined =>
  ELEMENT_TYPE_OF_ORT[ortType];

export const isElementType = (name: string): name is ElementType =>
  (ELEMENT_TYPES as readonly string[]).includes(name);

/** Values of one tensor, in the array ONNX Runtime takes for its type (BOOL as 0/1 bytes). */
export type TensorValues =
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | string[];

/** One element after conversion: what is stored in TensorValues and what is logged. */
export type ElementValue = number | bigint | string | boolean;

/** The largest finite FP32: anything larger in magnitude becomes ±Infinity inside the model. */
export const FP32_MAX = 3.4028234663852886e38;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** What an element of `type` must be, in the words of a 400 message. */
export const EXPECTED: Record<ElementType, string> = {
  FP32: `expected a finite number within FP32 range (|x| ≤ ${FP32_MAX})`,
  FP64: 'expected a finite number (FP64)',
  INT32: 'expected an integer within INT32 range',
  INT64: 'expected an integer (INT64; as a number up to 2^53 or a string of digits)',
  BOOL: 'expected true or false (BOOL)',
  BYTES: 'expected a string (BYTES)',
};

/** Converts one JSON value to an element of `type`, or undefined when it is not one. */
export function toElement(type: ElementType, value: unknown): ElementValue | undefined {
  switch (type) {
    case 'FP32':
      return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= FP32_MAX
        ? value
        : undefined;
    case 'FP64':
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    case 'INT32':
      return typeof value === 'number' &&
        Number.isInteger(value) &&
        value >= INT32_MIN &&
        value <= INT32_MAX
        ? value
        : undefined;
    case 'INT64':
      return toInt64(value);
    case 'BOOL':
      return typeof value === 'boolean' ? value : undefined;
    case 'BYTES':
      return typeof value === 'string' ? value : undefined;
  }
}

function toInt64(value: unknown): bigint | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : undefined;
  if (typeof value !== 'string' || !/^-?\d{1,19}$/.test(value)) return undefined;
  const big = BigInt(value);
  return big >= INT64_MIN && big <= INT64_MAX ? big : undefined;
}

/** A zero-filled array of `length` elements of `type` (BYTES: empty strings). */
export function allocate(type: ElementType, length: number): TensorValues {
  switch (type) {
    case 'FP32':
      return new Float32Array(length);
    case 'FP64':
      return new Float64Array(length);
    case 'INT32':
      return new Int32Array(length);
    case 'INT64':
      return new BigInt64Array(length);
    case 'BOOL':
      return new Uint8Array(length);
    case 'BYTES':
      return new Array<string>(length).fill('');
  }
}

/** Stores an element made by toElement (of the same type) at `index`. */
export function store(values: TensorValues, index: number, element: ElementValue): void {
  if (Array.isArray(values)) values[index] = element as string;
  else if (values instanceof BigInt64Array) values[index] = element as bigint;
  else values[index] = typeof element === 'boolean' ? (element ? 1 : 0) : (element as number);
}

/** An element as JSON can carry it: INT64 beyond 2^53 stays exact as a string. */
export function toJsonValue(element: ElementValue): number | string | boolean {
  if (typeof element !== 'bigint') return element;
  return element >= BigInt(Number.MIN_SAFE_INTEGER) && element <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(element)
    : element.toString();
}

/** Joins same-typed parts into one array (for a batch of requests). */
export function concatValues(type: ElementType, parts: readonly TensorValues[]): TensorValues {
  if (parts.length === 1) return parts[0] as TensorValues;
  if (type === 'BYTES') return (parts as string[][]).flat();
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  const merged = allocate(type, length) as Exclude<TensorValues, string[]>;
  let offset = 0;
  for (const part of parts) {
    (merged as Float64Array).set(part as Float64Array, offset);
    offset += part.length;
  }
  return merged;
}
