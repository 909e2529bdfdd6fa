/**
 * A load client in its own process for the Open Inference Protocol on both transports,
 * so gRPC and REST are driven the same way (wrk cannot speak gRPC, and ghz is not
 * installable here):
 *   node --import tsx scripts/bench/protocol-load-client.ts grpc 127.0.0.1:8081 64 10
 *   node --import tsx scripts/bench/protocol-load-client.ts rest http://127.0.0.1:8080 64 10
 * `connections` calls are always in flight (gRPC: over 4 HTTP/2 connections, as a client
 * pool would; REST: one keep-alive socket each). Prints one JSON line: a LoadResult.
 */
import { Agent, request } from 'node:http';
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { loadInferenceService } from '../../src/grpc/grpc-server.js';
import type { LoadResult } from './load.js';

const [protocol, target, connectionsArg, secondsArg] = process.argv.slice(2);
const connections = Number(connectionsArg);
const seconds = Number(secondsArg);
if (
  (protocol !== 'grpc' && protocol !== 'rest') ||
  !target ||
  !(connections > 0) ||
  !(seconds > 0)
) {
  throw new Error('usage: protocol-load-client.ts grpc|rest <address> <connections> <seconds>');
}

const ROW = [5.1, 3.5, 1.4, 0.2];
const raw = Buffer.alloc(16);
for (const [i, value] of ROW.entries()) raw.writeFloatLE(value, i * 4);
const grpcRequest = {
  model_name: 'iris',
  inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4] }],
  raw_input_contents: [raw],
};
const restBody = JSON.stringify({
  inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: ROW }],
});

type Call = () => Promise<boolean>;

function grpcCalls(): Call[] {
  const Service = loadInferenceService();
  const channels = Array.from(
    { length: 4 },
    // Separate subchannel pools: four real connections, not one shared.
    () =>
      new Service(target as string, credentials.createInsecure(), {
        'grpc.use_local_subchannel_pool': 1,
      }),
  );
  return channels.map(
    (client) => () =>
      new Promise<boolean>((done) => {
        (client.ModelInfer as (r: object, cb: (e: ServiceError | null) => void) => void)(
          grpcRequest,
          (error) => done(error === null),
        );
      }),
  );
}

function restCall(): Call {
  const url = new URL('/v2/models/iris/infer', target);
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const headers = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(restBody),
  };
  return () =>
    new Promise<boolean>((done) => {
      const req = request(
        { agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers },
        (res) => {
          res.resume();
          res.on('end', () => done(res.statusCode === 200));
        },
      );
      req.on('error', () => done(false));
      req.end(restBody);
    });
}

async function main(): Promise<void> {
  const calls = protocol === 'grpc' ? grpcCalls() : [restCall()];
  const times: number[] = [];
  let ok = 0;
  let failed = 0;
  let sent = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async (index: number) => {
    const call = calls[index % calls.length] as Call;
    while (performance.now() < deadline) {
      const t0 = performance.now();
      sent += 1;
      if (await call()) {
        ok += 1;
        times.push(performance.now() - t0);
      } else {
        failed += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, (_, i) => worker(i)));
  const elapsedS = (performance.now() - started) / 1000;
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
  const result: LoadResult = {
    connections,
    durationS: seconds,
    rps: ok / elapsedS,
    p50Ms: Math.round(at(0.5) * 100) / 100,
    p99Ms: Math.round(at(0.99) * 100) / 100,
    ok2xx: ok,
    sent,
    non2xx: failed,
    errors: 0,
    timeouts: 0,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
