import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

/**
 * Readers for the deployment files (Dockerfile, compose.yaml, deploy/), which cannot be
 * run here: test/deploy.test.ts checks the parts of them that can rot against the code.
 */
export const REPO = resolve(import.meta.dirname, '../..');
export const readRepoFile = (path: string): string => readFileSync(resolve(REPO, path), 'utf8');

export interface DockerInstruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions of each stage, continuation lines joined, comments dropped. */
export function dockerfileStages(text: string): DockerInstruction[][] {
  const joined = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  const stages: DockerInstruction[][] = [];
  for (const line of joined.split('\n')) {
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!match?.[1] || match[2] === undefined) continue;
    const instruction = { keyword: match[1].toUpperCase(), args: match[2].trim() };
    if (instruction.keyword === 'FROM') stages.push([]);
    stages.at(-1)?.push(instruction);
  }
  return stages;
}

/** `KEY=value KEY2=value` of an ENV instruction (values without spaces or quotes). */
export function envPairs(args: string): Record<string, string> {
  return Object.fromEntries(
    args.split(/\s+/).map((pair) => {
      const [key = '', ...value] = pair.split('=');
      return [key, value.join('=')];
    }),
  );
}

export function readYaml(path: string): unknown {
  // Compose files use YAML merge keys (`<<: *modelgate`), as docker compose does.
  return parse(readRepoFile(path), { merge: true });
}

export function readYamlDocuments(path: string): unknown[] {
  return parseAllDocuments(readRepoFile(path)).map((doc) => doc.toJS());
}

/**
 * Compose's `${NAME:-default}` and `${NAME:?message}` as `docker compose` would expand
 * them with NAME unset: the default, or `fallback` where the file demands a value.
 */
export function interpolateCompose(value: string, fallback: string): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_all, _name, kind, rest) =>
    kind === '-' ? String(rest) : fallback,
  );
}

/** Duration as compose writes it (`45s`, `1m30s`) in seconds. */
export function composeSeconds(value: string): number {
  let seconds = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+)(h|m|s)/g)) {
    seconds += Number(amount) * { h: 3600, m: 60, s: 1 }[unit as 'h' | 'm' | 's'];
  }
  return seconds;
}
