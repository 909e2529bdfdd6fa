import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

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

export interface ChildGateway {
  url: string;
  child: ChildProcess;
  output: () => string;
  /**
   * Sends `signal` to the whole process group (npm, tsx, node), as a terminal's
   * Ctrl-C or a supervisor does, and resolves once every process in it has exited.
   */
  stop(signal: NodeJS.Signals): Promise<void>;
}

/** Starts modelgate exactly as a user does: `npm start`, configured by env. */
export async function startChildGateway(env: Record<string, string>): Promise<ChildGateway> {
  const port = await freePort();
  const child = spawn('npm', ['start', '--silent'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const groupAlive = () => {
    try {
      process.kill(-(child.pid as number), 0);
      return true;
    } catch {
      return false;
    }
  };
  const stop = async (signal: NodeJS.Signals) => {
    process.kill(-(child.pid as number), signal);
    const deadline = Date.now() + 30_000;
    while (groupAlive()) {
      if (Date.now() > deadline) {
        process.kill(-(child.pid as number), 'SIGKILL');
        throw new Error(`modelgate did not stop within 30 s:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`modelgate exited during start:\n${output}`);
    try {
      if ((await fetch(`${url}/v2/health/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      process.kill(-(child.pid as number), 'SIGKILL');
      throw new Error(`modelgate did not become ready in 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, child, output: () => output, stop };
}
