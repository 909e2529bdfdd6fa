import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread on `entry`, the URL of a module's compiled `.js` beside the caller
 * (`new URL('./x-worker.js', import.meta.url)`): that file when running from dist/ (`npm
 * start`), else its `.ts` source (tests, `npm run dev`). tsx's loader hooks are not inherited
 * by workers on Node 20, so a source worker registers them itself before importing the file.
 */
export function spawnWorker(entry: URL, options: Omit<WorkerOptions, 'eval'>): Worker {
  if (existsSync(fileURLToPath(entry))) return new Worker(entry, options);
  const source = JSON.stringify(entry.href.replace(/\.js$/, '.ts'));
  return new Worker(
    `import('tsx/esm/api').then(({ register }) => { register(); return import(${source}); })`,
    { ...options, eval: true },
  );
}
