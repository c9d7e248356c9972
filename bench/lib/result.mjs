// Shared by every benchmark: the machine it ran on and where its JSON result goes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Writes bench/results/<name>.json: subject and baseline measured in the same run, their ratio,
 * the target, the machine and the date, plus whatever details the benchmark adds.
 */
export function writeResult(result) {
  const full = {
    ...result,
    machine: `${availableParallelism()} cores`,
    node: process.version,
    date: new Date().toISOString().slice(0, 10),
  };
  const file = join(repoRoot, 'bench', 'results', `${result.name}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(full, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(full, null, 2)}\n-> ${file}\n`);
  return full;
}

export const mean = (values) => values.reduce((sum, value) => sum + value, 0) / values.length;

/** The middle value, or the mean of the two middle values of an even count. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
