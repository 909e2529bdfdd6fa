import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import { AppError, invalidInput } from '../errors.js';

export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Parses the JSON body; malformed JSON is the client's 400, a body over 1 MiB
 * is a 413, never a 500.
 */
export async function readJson(c: Context): Promise<unknown> {
  const text = await readText(c);
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

function tooLarge(): AppError {
  return new AppError(
    413,
    'payload_too_large',
    `body: larger than ${MAX_BODY_BYTES} bytes (1 MiB)`,
  );
}

/**
 * Under @hono/node-server the body is read straight off the socket: going
 * through c.req.text() builds a WHATWG Request (a ReadableStream and an
 * AbortSignal per call), which the profile showed as a third of the gateway's
 * own cost per prediction. Elsewhere (app.request in tests) the Fetch API path
 * is the only one there is.
 */
async function readText(c: Context): Promise<string> {
  const declared = Number(c.req.header('content-length') ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
  if (!incoming) {
    const text = await c.req.text();
    if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw tooLarge();
    return text;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  return chunks.length === 1
    ? (chunks[0] as Buffer).toString('utf8')
    : Buffer.concat(chunks).toString('utf8');
}
