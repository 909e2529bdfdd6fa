import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type CpuTimes, parseProcStatCpu } from './proc-stat.js';

/** Children run from the repository root, so `./models` and `src/main.ts` resolve. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** A server started as a child process of the bench; its pid is the server itself. */
export interface ServerHandle {
  name: string;
  pid: number;
  url: string;
  /** `127.0.0.1:<port>` given to it as MODELGATE_GRPC_PORT (modelgate serves gRPC there). */
  grpcAddress: string;
  stop(): Promise<void>;
}

export interface ServerSpec {
  name: string;
  /** Run as `node [nodeArgs] --import tsx <script>` from the repository root (a .js without tsx). */
  script: string;
  env: Record<string, string>;
  nodeArgs?: string[];
  /** Ready when this path answers 200; otherwise when stdout prints "listening". */
  readyPath?: string;
  timeoutMs?: number;
}

const children = new Set<ChildProcess>();
let cleanupInstalled = false;

/** Kills every child still running when the bench exits or is interrupted. */
function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', () => {
    for (const child of children) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping ${children.size} server(s)\n`);
      for (const child of children) child.kill('SIGKILL');
      process.exit(130);
    });
  }
}

/** A port free on loopback right now (the child binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Resident set size of a process from /proc, in bytes. */
export function rssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User and system CPU time a process has used so far (10 ms resolution); undefined off Linux. */
export function cpuTimes(pid: number): CpuTimes | undefined {
  try {
    return parseProcStatCpu(readFileSync(`/proc/${pid}/stat`, 'utf8'), TICKS_PER_SECOND);
  } catch {
    return undefined;
  }
}

/** User + system CPU time the calling thread has used so far, in seconds; undefined off Linux. */
export function threadCpuSeconds(): number | undefined {
  try {
    const times = parseProcStatCpu(
      readFileSync('/proc/thread-self/stat', 'utf8'),
      TICKS_PER_SECOND,
    );
    return times.userS + times.systemS;
  } catch {
    return undefined;
  }
}

/** User + system CPU time a process has used so far, in seconds. */
export function cpuSeconds(pid: number): number | undefined {
  const times = cpuTimes(pid);
  return times && times.userS + times.systemS;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function startServer(spec: ServerSpec): Promise<ServerHandle> {
  installCleanup();
  const port = await freePort();
  // Never modelgate's default 8081: another server or a test may hold it.
  const grpcPort = await freePort();
  const child = spawn(
    process.execPath,
    [
      ...(spec.nodeArgs ?? []),
      ...(spec.script.endsWith('.ts') ? ['--import', 'tsx'] : []),
      spec.script,
    ],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        MODELGATE_GRPC_PORT: String(grpcPort),
        ...spec.env,
        PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.add(child);
  child.once('exit', () => children.delete(child));
  const url = `http://127.0.0.1:${port}`;

  let output = '';
  let printedListening = false;
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
    if (/listening/.test(output)) printedListening = true;
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const stop = async () => {
    if (!children.has(child)) return;
    child.kill('SIGINT');
    if (!(await waitForExit(child, 15_000))) {
      process.stderr.write(`bench: ${spec.name} ignored SIGINT for 15 s; killing it\n`);
      child.kill('SIGKILL');
      await waitForExit(child, 5_000);
    }
  };

  const deadline = Date.now() + (spec.timeoutMs ?? 60_000);
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${spec.name} exited before it was ready:\n${output}`);
      }
      if (Date.now() > deadline) throw new Error(`${spec.name} not ready in time:\n${output}`);
      if (spec.readyPath) {
        const ok = await fetch(url + spec.readyPath).then(
          (response) => response.ok,
          () => false,
        );
        if (ok) break;
      } else if (printedListening) {
        break;
      }
      await sleep(100);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  if (child.pid === undefined) throw new Error(`${spec.name}: no pid`);
  return { name: spec.name, pid: child.pid, url, grpcAddress: `127.0.0.1:${grpcPort}`, stop };
}
