import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export interface StoppableServer {
  /**
   * Stops accepting connections, answers what is open with `Connection: close`, and
   * resolves once every open request has finished, or at `deadline` (epoch ms), when
   * the requests still open are cut. A request cut that way was never answered, so no
   * prediction row is owed for it.
   */
  stop(deadline: number): Promise<{ cut: boolean }>;
}

/**
 * Graceful stop for a node:http server. Without `Connection: close` a keep-alive client
 * would send its next request on a socket the server is about to close and see
 * ECONNRESET; with it, the client opens a new connection and is refused cleanly.
 */
export function stoppable(server: Server): StoppableServer {
  let stopping = false;
  const open = new Set<ServerResponse>();
  // Prepended: it must run before the app's listener can write the response head.
  server.prependListener('request', (_request: IncomingMessage, response: ServerResponse) => {
    if (stopping) {
      response.setHeader('Connection', 'close');
      return;
    }
    open.add(response);
    response.once('close', () => open.delete(response));
  });

  return {
    stop(deadline) {
      stopping = true;
      for (const response of open) {
        if (!response.headersSent) response.setHeader('Connection', 'close');
      }
      open.clear();
      return new Promise((resolve) => {
        let cut = false;
        // A response whose head went out before the stop still said keep-alive: its
        // socket turns idle only after that response, so close idle ones as they appear.
        const idleSweep = setInterval(() => server.closeIdleConnections(), 50);
        const cutAtDeadline = setTimeout(
          () => {
            cut = true;
            server.closeAllConnections();
          },
          Math.max(0, deadline - Date.now()),
        );
        server.close(() => {
          clearInterval(idleSweep);
          clearTimeout(cutAtDeadline);
          resolve({ cut });
        });
        server.closeIdleConnections();
      });
    },
  };
}
