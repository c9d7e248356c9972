import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { writeFileAtomically } from '@stratus/core';

// The package does not export its package.json; read it next to the resolved entry point.
const pgliteEntry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
const pgliteVersion = (
  JSON.parse(readFileSync(join(dirname(pgliteEntry), '..', 'package.json'), 'utf8')) as { version: string }
).version;

/** Where the template for the installed PGlite version lives in `dir` (default the system temp folder). */
export function pgliteTemplateFile(dir = tmpdir()): string {
  return join(dir, `stratus-pglite-${pgliteVersion}.tar.gz`);
}

/**
 * A freshly initialised PGlite data folder, dumped (gzip) to `file` unless it is there already; resolves
 * to the file. Opening a new database from it (`pgliteTemplateFile` of openDatabase) skips initdb, which
 * costs seconds of CPU. The dump is keyed by PGlite version, since another version may not read it.
 */
export async function ensurePgliteTemplate(file = pgliteTemplateFile()): Promise<string> {
  const present = await stat(file).then(
    () => true,
    () => false,
  );
  if (present) return file;
  const fresh = new PGlite();
  await fresh.waitReady;
  const dump = await fresh.dumpDataDir('gzip');
  await fresh.close();
  // Written aside and renamed, so a parallel reader never sees half a dump.
  await writeFileAtomically(file, Buffer.from(await dump.arrayBuffer()));
  return file;
}

/**
 * A freshly initialised PGlite data folder in `dir` (made unless there already), for
 * `pgliteTemplatePath`: a new database copies it, which is faster than loading a dump. Keyed by PGlite
 * version like the dump.
 */
export async function ensurePgliteTemplateFolder(dir: string): Promise<string> {
  const folder = join(dir, `stratus-pglite-${pgliteVersion}`);
  if (existsSync(join(folder, 'PG_VERSION'))) return folder;
  const partial = `${folder}.${process.pid}.partial`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(dirname(partial), { recursive: true });
  const fresh = new PGlite(partial);
  await fresh.waitReady;
  await fresh.close();
  // Renamed into place only once complete, so a copy never starts from half a folder.
  await rm(folder, { recursive: true, force: true });
  await rename(partial, folder);
  return folder;
}
