/** Messages between the prediction log's writer thread (log-worker.ts) and log-thread.ts. */
import type { PredictionRecord } from '../predictions.js';

export interface LogWorkerInit {
  path: string;
  busyTimeoutMs: number;
}

/** A SQLite error as it crosses threads: its message and result code (SQLITE_FULL...). */
export interface WireError {
  message: string;
  code?: string;
}

/** Test seam: the worker calls process.exit(code) before or after committing this write. */
export interface ExitForTests {
  code: number;
  when: 'before-commit' | 'after-commit';
}

export interface LogWrite {
  id: number;
  rows: readonly PredictionRecord[];
  exitForTests?: ExitForTests;
}

export type LogWorkerHello = { ready: true } | { ready: false; error: WireError };

/** Positions in the write's rows the database would not take, or why the commit failed. */
export type LogWriteAnswer = { id: number; rejected: number[] } | { id: number; error: WireError };

export function toWireError(error: unknown): WireError {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? { message, code } : { message };
}

export function fromWireError(wire: WireError): Error {
  return Object.assign(new Error(wire.message), wire.code === undefined ? {} : { code: wire.code });
}
