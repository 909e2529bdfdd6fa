import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate } from 'node:zlib';
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import { AppError, badRequest } from '../errors.js';
import { requestHeader } from './request-header.js';

export const MAX_BODY_BYTES = 1024 * 1024;

/** Request Content-Encodings and how to undo each; the output is capped at MAX_BODY_BYTES. */
const DECODERS: Readonly<
  Record<string, (data: Buffer, options: { maxOutputLength: number }) => Promise<Buffer>>
> = {
  gzip: promisify(gunzip),
  'x-gzip': promisify(gunzip),
  deflate: promisify(inflate),
  br: promisify(brotliDecompress),
};

function tooLarge(what = 'body'): AppError {
  return new AppError(
    413,
    'payload_too_large',
    `${what}: larger than ${MAX_BODY_BYTES} bytes (1 MiB)`,
  );
}

/**
 * The request body as bytes, decompressed when it says `Content-Encoding: gzip`,
 * `deflate` or `br`. The 1 MiB limit holds for the bytes on the wire and again for
 * what they decompress to, so a small zip bomb is a 413, not a process out of memory.
 */
export async function readBody(c: Context): Promise<Buffer> {
  const raw = await readRaw(c);
  const header = requestHeader(c, 'content-encoding');
  if (header === undefined) return raw;
  // Listed in the order applied, so undone from the last.
  const codings = header
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity')
    .reverse();
  let body = raw;
  for (const coding of codings) {
    const decode = DECODERS[coding];
    if (!decode) {
      throw new AppError(
        415,
        'unsupported_media_type',
        `Content-Encoding: ${coding} is not accepted; send gzip, deflate, br or identity`,
      );
    }
    try {
      body = await decode(body, { maxOutputLength: MAX_BODY_BYTES });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw tooLarge(`body (after ${coding} decompression)`);
      }
      throw badRequest(`body: not valid ${coding} data (${(error as Error).message})`);
    }
  }
  return body;
}

/**
 * Under @hono/node-server the body is read straight off the socket: going
 * through c.req.text() builds a WHATWG Request (a ReadableStream and an
 * AbortSignal per call), which the profile showed as a third of the gateway's
 * own cost per prediction. Elsewhere (app.request in tests) the Fetch API path
 * is the only one there is.
 */
async function readRaw(c: Context): Promise<Buffer> {
  const declared = Number(requestHeader(c, 'content-length') ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
  if (!incoming) {
    const bytes = Buffer.from(await c.req.arrayBuffer());
    if (bytes.length > MAX_BODY_BYTES) throw tooLarge();
    return bytes;
  }
  return readIncoming(incoming);
}

const closedEarly = () => badRequest('body: the connection closed before all of it arrived');

/**
 * The body by 'data' events rather than `for await`: the async iterator cost each request an
 * iterator, a promise per chunk and an end-of-stream watcher (~3 % of the gateway's CPU per
 * prediction on iris in the profile). Too large: the rest is dropped unread and the 413 goes out.
 */
function readIncoming(incoming: IncomingMessage): Promise<Buffer> {
  if (incoming.readableEnded) return Promise.resolve(Buffer.alloc(0));
  // Closed before we got here: 'close' has fired already and would never fire again.
  if (incoming.destroyed) return Promise.reject(closedEarly());
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error?: Error) => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', finish);
      incoming.off('close', onClose);
      if (error) reject(error);
      else resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        finish(tooLarge());
        // The rest is read and dropped so the 413 can be answered on this connection.
        incoming.resume();
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish();
    const onClose = () => finish(closedEarly());
    incoming.on('data', onData);
    incoming.once('end', onEnd);
    incoming.once('error', finish);
    incoming.once('close', onClose);
  });
}
