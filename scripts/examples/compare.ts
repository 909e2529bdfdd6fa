import { argmax } from './linear-algebra.js';

interface Classifier {
  predictProbaBatch(rows: readonly number[][]): number[][];
}

/** Rows where the two models pick a different label: what an A/B comparison can find. */
export function countDisagreements(
  a: Classifier,
  b: Classifier,
  rows: readonly number[][],
): number {
  const labelsA = a.predictProbaBatch(rows).map(argmax);
  const labelsB = b.predictProbaBatch(rows).map(argmax);
  return labelsA.filter((label, i) => label !== labelsB[i]).length;
}
