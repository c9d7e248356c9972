#!/usr/bin/env node
// `npm start`: builds what changed since the last build (tsc -b, only when a source is newer than its
// build), then starts the local platform. Plain JavaScript, so it runs before anything is built.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Newest modification time of the files under a folder, 0 when there is none. */
function newestUnder(path) {
  let newest = 0;
  for (const entry of readdirSync(path, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** Projects (from the root tsconfig's references) whose sources are newer than their last build. */
function staleProjects() {
  const { references } = JSON.parse(readFileSync(join(repoRoot, 'tsconfig.json'), 'utf8'));
  return references
    .map(({ path }) => path)
    .filter((project) => {
      const buildInfo = join(repoRoot, project, 'tsconfig.tsbuildinfo');
      if (!existsSync(buildInfo)) return true;
      const built = statSync(buildInfo).mtimeMs;
      const sources = join(repoRoot, project, 'src');
      return (
        (existsSync(sources) && newestUnder(sources) > built) ||
        statSync(join(repoRoot, project, 'tsconfig.json')).mtimeMs > built
      );
    });
}

const stale = staleProjects();
if (stale.length > 0) {
  process.stderr.write(`npm start: building ${stale.join(', ')} (sources changed since the last build)\n`);
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) {
    process.stderr.write('npm start: TypeScript is not installed. Run `npm ci` first.\n');
    process.exit(1);
  }
  const build = spawnSync(process.execPath, [tsc, '-b'], { cwd: repoRoot, stdio: 'inherit' });
  if (build.status !== 0) {
    process.stderr.write(
      'npm start: the build failed (errors above); fix them or run `npm run build` to see them again.\n',
    );
    process.exit(1);
  }
}
await import('../dist/start.js');
