import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import { AppError } from '../errors.js';

export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Parses the JSON body; malformed JSON is the client's 400, a body over 1 MiB
 * is a 413, never a 500.
 */
export async function readJson(c: Context): Promise<unknown> {
  const text = await readText(c);
  if (text.trim() === '') throw new AppError(400, 'invalid_json', 'body: expected a JSON body');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AppError(400, 'invalid_json', `body: malformed JSON (${(error as Error).message})`);
  }
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
