import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { LoadResult } from './load.js';
import { repoRoot } from './servers.js';

export interface ProtocolComparison {
  connections: number;
  /** POST /v2/models/iris/infer, JSON, one row. */
  rest: LoadResult;
  /** ModelInfer with raw_input_contents, one row. */
  grpc: LoadResult;
}

const run = promisify(execFile);

/** One protocol from protocol-load-client.ts, in its own process. */
async function drive(
  protocol: 'rest' | 'grpc',
  target: string,
  connections: number,
  seconds: number,
) {
  const { stdout } = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      'scripts/bench/protocol-load-client.ts',
      protocol,
      target,
      String(connections),
      String(seconds),
    ],
    { cwd: repoRoot, timeout: (seconds + 60) * 1000 },
  );
  return JSON.parse(stdout.trim().split('\n').pop() as string) as LoadResult;
}

/**
 * The Open Inference Protocol on iris at c=64, REST then gRPC against the same server,
 * with the same client (one Node process per run): the ratio is the protocols', not two
 * load generators'.
 */
export async function compareProtocols(
  server: { url: string; grpcAddress: string },
  seconds: number,
  connections = 64,
): Promise<ProtocolComparison> {
  const rest = await drive('rest', server.url, connections, seconds);
  const grpc = await drive('grpc', server.grpcAddress, connections, seconds);
  return { connections, rest, grpc };
}

export const protocolsLine = (p: ProtocolComparison): string =>
  `Open Inference Protocol on iris at c=${p.connections}, one Node client process each: ` +
  `gRPC ModelInfer (raw contents) ${p.grpc.rps.toFixed(0)} req/s, p99 ${p.grpc.p99Ms.toFixed(2)} ms; ` +
  `REST /v2 infer (JSON) ${p.rest.rps.toFixed(0)} req/s, p99 ${p.rest.p99Ms.toFixed(2)} ms ` +
  `(gRPC/REST ${(p.grpc.rps / p.rest.rps).toFixed(2)}× req/s; ` +
  `${p.grpc.non2xx + p.rest.non2xx} failed calls)`;
