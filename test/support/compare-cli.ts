import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from './child-gateway.js';

const run = promisify(execFile);

/** `npm run compare -- --model <model> --db <dbPath> …args`, as a user runs it; resolves to its output. */
export const runCompareCli = (model: string, dbPath: string, ...args: string[]) =>
  run('npm', ['run', '--silent', 'compare', '--', '--model', model, '--db', dbPath, ...args], {
    cwd: PROJECT_ROOT,
  });
