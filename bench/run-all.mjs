// npm run bench: every benchmark under bench/<name>/run.mjs, one after another (they share 2 cores).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './lib/result.mjs';

const only = process.argv.slice(2);
const benches = readdirSync(join(repoRoot, 'bench'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(repoRoot, 'bench', entry.name, 'run.mjs')))
  .map((entry) => entry.name)
  .filter((name) => only.length === 0 || only.includes(name));

let failed = 0;
for (const name of benches) {
  process.stdout.write(`\n== bench/${name}\n`);
  const { status } = spawnSync(process.execPath, [join(repoRoot, 'bench', name, 'run.mjs')], {
    stdio: 'inherit',
  });
  if (status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
