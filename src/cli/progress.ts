/**
 * A progress line on stderr for long CLI jobs (export, score): rows done, rate and,
 * when the total is known, a bar. Redrawn at most every `everyMs`, so a job of a
 * million rows writes a few hundred lines' worth of bytes, not a million.
 */
export interface Progress {
  /** `done` rows so far; `fraction` of the work (0–1) when it is known. */
  update(done: number, fraction?: number): void;
  /** Final line with the total and the elapsed time. */
  finish(done: number, suffix?: string): void;
}

export interface ProgressOptions {
  label: string;
  out?: NodeJS.WritableStream & { isTTY?: boolean };
  everyMs?: number;
  now?: () => number;
}

const BAR_WIDTH = 24;

export function formatProgress(
  label: string,
  done: number,
  elapsedMs: number,
  fraction?: number,
): string {
  const rate = elapsedMs > 0 ? Math.round((done / elapsedMs) * 1000) : 0;
  const counts = `${done.toLocaleString('en-US')} rows, ${rate.toLocaleString('en-US')} rows/s`;
  if (fraction === undefined) return `${label}: ${counts}`;
  const clamped = Math.min(1, Math.max(0, fraction));
  const filled = Math.round(clamped * BAR_WIDTH);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
  return `${label} ${bar} ${(clamped * 100).toFixed(0).padStart(3)}% ${counts}`;
}

export function createProgress(options: ProgressOptions): Progress {
  const out = options.out ?? process.stderr;
  const now = options.now ?? Date.now;
  const everyMs = options.everyMs ?? 250;
  const started = now();
  let lastDrawn = Number.NEGATIVE_INFINITY;
  // On a terminal the line redraws in place; in a log file each redraw is its own line.
  const end = out.isTTY ? '\r' : '\n';
  return {
    update(done, fraction) {
      const at = now();
      if (at - lastDrawn < everyMs) return;
      lastDrawn = at;
      out.write(`${formatProgress(options.label, done, at - started, fraction)}${end}`);
    },
    finish(done, suffix) {
      const elapsed = now() - started;
      const line = formatProgress(options.label, done, elapsed, 1);
      out.write(`${line} in ${(elapsed / 1000).toFixed(1)} s${suffix ? `; ${suffix}` : ''}\n`);
    },
  };
}
