import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from './child-gateway.js';

const run = promisify(execFile);

/** `npm run compare -- --model <model> --db <dbPath> …args`, as a user runs it; resolves to its output. */
export const runCompareCli = (model: string, dbPath: string, ...args: string[]) =>
  run('npm', ['run', '--silent', 'compare', '--', '--model', model, '--db', dbPath, ...args], {
    cwd: PROJECT_ROOT,
  });

/** The same on PostgreSQL: the CLI reads MODELGATE_DATABASE_URL as the gateway does. */
export const runCompareCliOnPostgres = (model: string, databaseUrl: string, ...args: string[]) =>
  run('npm', ['run', '--silent', 'compare', '--', '--model', model, ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, MODELGATE_DATABASE_URL: databaseUrl },
  });
