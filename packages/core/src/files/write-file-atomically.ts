import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Writes `data` to `path` through a file beside it, renamed into place once complete: a reader (or
 * the writer crashing) never sees half a file, and of two processes writing at once one whole file
 * wins. Makes the folder if it is missing; `mode` as for writeFile (e.g. 0o600 for a key).
 */
export async function writeFileAtomically(
  path: string,
  data: string | Uint8Array,
  options: { mode?: number } = {},
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  // One partial file per process, so writers in parallel do not write into each other's.
  const partial = `${path}.${process.pid}.partial`;
  try {
    await writeFile(partial, data, options);
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true }).catch(() => {});
    throw error;
  }
}
