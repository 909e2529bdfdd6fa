import type { Context } from 'hono';
import { AppError, invalidInput } from '../errors.js';
import { readBody } from './read-body.js';

/**
 * Parses the JSON body; malformed JSON is the client's 400, a body over 1 MiB
 * (on the wire or decompressed) is a 413, never a 500.
 */
export async function readJson(c: Context): Promise<unknown> {
  return parseJsonText((await readBody(c)).toString('utf8'));
}

/** JSON text as a value, refusing what no route accepts (NUL characters, `__proto__` keys). */
export function parseJsonText(text: string): unknown {
  if (text.trim() === '') throw new AppError(400, 'invalid_json', 'body: expected a JSON body');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new AppError(400, 'invalid_json', `body: malformed JSON (${(error as Error).message})`);
  }
  // Cheap text tests keep the walk off ordinary bodies: a NUL can only arrive as an
  // escape (a raw one is malformed JSON), and a reserved key contains "proto" unless
  // escaped too.
  if (text.includes('\\u') || text.includes('proto')) {
    const problem = findUnacceptable(value, 'body');
    if (problem) throw invalidInput(problem);
  }
  return value;
}

/**
 * Keys an object cannot hold as its own: JSON.parse keeps `__proto__` as a
 * property, but copying it into a record drops it silently, so it would vanish
 * where any other unknown name is a 400.
 */
const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__']);

/**
 * The first NUL character or reserved key, as "path: what". PostgreSQL text
 * cannot hold a NUL (a 500 there, a stored string in SQLite), so both refuse it.
 */
function findUnacceptable(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') {
    return value.includes('\0') ? `${path}: NUL characters (\\u0000) are not accepted` : undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const entries: Array<[string, unknown]> = Array.isArray(value)
    ? value.map((item, i) => [`${path}[${i}]`, item])
    : Object.entries(value).map(([key, item]) => [`${path}.${key}`, item]);
  if (!Array.isArray(value)) {
    for (const key of Object.keys(value)) {
      const at = `${path}.${key.replaceAll('\0', '\\u0000')}`;
      if (RESERVED_KEYS.has(key))
        return `${at}: "${key}" is a reserved name, not accepted as a key`;
      if (key.includes('\0')) return `${at}: NUL characters (\\u0000) are not accepted`;
    }
  }
  for (const [at, item] of entries) {
    const found = findUnacceptable(item, at);
    if (found) return found;
  }
  return undefined;
}
