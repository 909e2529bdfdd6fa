import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { vi } from 'vitest';

export const PROJECT_ROOT = resolve(import.meta.dirname, '../..');

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

/**
 * Who gets the signal: the whole process group (a terminal's Ctrl-C), the npm process
 * alone (a supervisor running `npm start` as PID 1), or the node process alone (a
 * supervisor running `node dist/main.js`).
 */
export type SignalTarget = 'group' | 'npm' | 'node';

export interface ChildGateway {
  url: string;
  /** `127.0.0.1:<port>` of its gRPC service (off when the env sets MODELGATE_GRPC_PORT=0). */
  grpcAddress: string;
  child: ChildProcess;
  /** The node process serving (npm's child). */
  nodePid: number;
  output: () => string;
  /**
   * Sends `signal` to `target` (default: the group) and resolves, with npm's exit code,
   * once every process of the group has exited.
   */
  stop(signal: NodeJS.Signals, target?: SignalTarget): Promise<number | null>;
  /** Resolves with npm's exit code (which is node's) when the gateway exits on its own. */
  exited: Promise<number | null>;
}

/**
 * How the helpers below wait for something outside the test's control (the gateway ready,
 * a process group gone): `vi.waitFor` in tests. A script run outside vitest
 * (scripts/stop-stress.ts) passes its own, since vitest's exists only inside its runner.
 */
export type WaitFor = <T>(
  check: () => T | Promise<T>,
  options: { timeout: number; interval: number },
) => Promise<T>;

const groupAlive = (group: number) => {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
};

/** Process groups of every gateway started here, until they exit. */
const running = new Set<number>();

/**
 * SIGKILLs every gateway of this test file still running: for afterEach, so a test that
 * fails half-way leaves no process behind (nor a busy mount under its database).
 */
export async function killLeftoverGateways(): Promise<void> {
  for (const group of running) if (groupAlive(group)) process.kill(-group, 'SIGKILL');
  // Until the kernel has reaped them: their open files keep a mount busy.
  for (const group of running) {
    await vi.waitFor(
      () => {
        if (groupAlive(group)) throw new Error(`process group ${group} still alive after SIGKILL`);
      },
      { timeout: 10_000, interval: 20 },
    );
  }
  running.clear();
}

/** Children of a process, from Linux's /proc. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(' ')
      .filter((s) => s.trim() !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** Starts modelgate exactly as a user does: `npm start`, configured by env. */
export async function startChildGateway(
  env: Record<string, string>,
  waitFor: WaitFor = vi.waitFor,
): Promise<ChildGateway> {
  const port = await freePort();
  // Never the default 8081: gateways of several test files run at once.
  const grpcPort = await freePort();
  const child = spawn('npm', ['start', '--silent'], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      MODELGATE_GRPC_PORT: String(grpcPort),
      LOG_LEVEL: 'info',
      // Never the project's ./data: a spill file there would be replayed into another test's database.
      MODELGATE_SPILL_DIR: mkdtempSync(join(tmpdir(), 'modelgate-spill-')),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const group = child.pid as number;
  running.add(group);
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const url = `http://127.0.0.1:${port}`;
  let exitedDuringStart = false;
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) exitedDuringStart = true;
        if (exitedDuringStart) return;
        // A refused connection (not listening yet) rejects: waitFor tries again.
        const res = await fetch(`${url}/v2/health/ready`);
        if (!res.ok) throw new Error(`/v2/health/ready answered ${res.status}`);
      },
      { timeout: 60_000, interval: 100 },
    );
  } catch (error) {
    process.kill(-group, 'SIGKILL');
    throw new Error(`modelgate did not become ready in 60 s (${error}):\n${output}`);
  }
  if (exitedDuringStart) throw new Error(`modelgate exited during start:\n${output}`);
  // `npm start` execs node in place of its shell, so node is npm's only child.
  const nodePid = childrenOf(child.pid as number)[0];
  if (nodePid === undefined) throw new Error(`no node process under npm start:\n${output}`);

  const stop = async (signal: NodeJS.Signals, target: SignalTarget = 'group') => {
    const pid =
      target === 'group' ? -(child.pid as number) : target === 'npm' ? child.pid : nodePid;
    process.kill(pid as number, signal);
    try {
      await waitFor(
        () => {
          if (groupAlive(group)) throw new Error('a process of the group is still running');
        },
        { timeout: 60_000, interval: 50 },
      );
    } catch {
      process.kill(-group, 'SIGKILL');
      throw new Error(`modelgate did not stop within 60 s:\n${output}`);
    }
    return exited;
  };
  return {
    url,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    child,
    nodePid,
    output: () => output,
    stop,
    exited,
  };
}
