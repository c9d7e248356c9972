import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomically } from '../../src/files/write-file-atomically.js';
import { useTempDir } from '../support/temp-dir.js';

const dir = useTempDir('stratus-files-');

describe('writeFileAtomically', () => {
  it('writes the whole file, making its folder, with the mode asked for and nothing left beside it', async () => {
    const path = join(dir.path, 'new', 'folder', 'key.json');
    await writeFileAtomically(path, '{"key":"v1"}', { mode: 0o600 });
    await writeFileAtomically(path, Buffer.from('{"key":"v2"}'), { mode: 0o600 });
    expect(await readFile(path, 'utf8')).toBe('{"key":"v2"}');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(join(dir.path, 'new', 'folder'))).toEqual(['key.json']);
  });

  it('leaves what was there, and no partial file, when the file cannot be put in place', async () => {
    const folder = join(dir.path, 'failing');
    // A folder (not empty) where the file should go: the partial file is written, the rename fails.
    const path = join(folder, 'report.json');
    await mkdir(path, { recursive: true });
    await writeFile(join(path, 'inside'), 'kept');
    await expect(writeFileAtomically(path, 'after')).rejects.toMatchObject({
      code: expect.stringMatching(/EISDIR|ENOTEMPTY|EEXIST/),
    });
    expect(await readdir(folder)).toEqual(['report.json']);
    expect(await readFile(join(path, 'inside'), 'utf8')).toBe('kept');
  });
});
