import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import type { Context } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../src/errors.js';
import { readBody } from '../src/http/read-body.js';

let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

/** The bindings @hono/node-server gives a handler: the header reader and the raw request. */
const contextOf = (req: IncomingMessage) =>
  ({
    req: { header: (name: string) => req.headers[name.toLowerCase()] as string | undefined },
    env: { incoming: req },
  }) as unknown as Context;

describe('reading the body of a request whose client has already gone', () => {
  it('rejects with a 400 naming the closed connection instead of waiting for ever', async () => {
    let hangUp = () => {};
    const outcome = new Promise<unknown>((resolve) => {
      const listening = createServer((req, res) => {
        // The headers and 5 of 100 body bytes are here: the client goes away.
        hangUp();
        // A handler that reaches readBody only once the connection is closed (a slow
        // middleware, a queue): 'close' has fired already and will not fire again.
        req.once('close', () => {
          setImmediate(() => {
            readBody(contextOf(req)).then(resolve, resolve);
            res.destroy();
          });
        });
      });
      server = listening;
      listening.listen(0, '127.0.0.1', () => {
        const { port } = listening.address() as AddressInfo;
        const socket = connect(port, '127.0.0.1', () => {
          socket.write(
            'POST /x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":',
          );
        });
        hangUp = () => socket.destroy();
      });
    });
    const error = await outcome;
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({
      status: 400,
      message: 'body: the connection closed before all of it arrived',
    });
  });
});
