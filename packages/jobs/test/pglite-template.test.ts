import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/store/database.js';
import { ensurePgliteTemplate, ensurePgliteTemplateFolder } from '../src/store/pglite-template.js';

describe('openDatabase with a PGlite template', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pglite-template-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('starts a new data folder from the template, and never replaces an existing database', async () => {
    const template = await ensurePgliteTemplate();
    expect(await ensurePgliteTemplate()).toBe(template);
    const dataDir = join(dir, 'db');
    const first = await openDatabase({ dataDir, pgliteTemplatePath: template });
    await first.query('CREATE TABLE kept (value text)');
    await first.query("INSERT INTO kept VALUES ('still here')");
    await first.close();

    const again = await openDatabase({ dataDir, pgliteTemplatePath: template });
    expect(await again.query<{ value: string }>('SELECT value FROM kept')).toEqual([{ value: 'still here' }]);
    await again.close();
  }, 60_000);

  it('copies a template data folder into a new data folder, leaving the template as it was', async () => {
    const folder = await ensurePgliteTemplateFolder(join(dir, 'cache'));
    expect(await ensurePgliteTemplateFolder(join(dir, 'cache'))).toBe(folder);
    const before = await readdir(folder, { recursive: true });
    const dataDir = join(dir, 'copied');
    const db = await openDatabase({ dataDir, pgliteTemplatePath: folder });
    await db.query('CREATE TABLE t (v int)');
    await db.query('INSERT INTO t VALUES (7)');
    await db.close();
    const again = await openDatabase({ dataDir, pgliteTemplatePath: folder });
    expect(await again.query<{ v: number }>('SELECT v FROM t')).toEqual([{ v: 7 }]);
    await again.close();
    expect(await readdir(folder, { recursive: true })).toEqual(before);
  }, 60_000);

  it('fails clearly when the template file is missing', async () => {
    await expect(
      openDatabase({ dataDir: join(dir, 'other'), pgliteTemplatePath: join(dir, 'missing.tar.gz') }),
    ).rejects.toThrow(/missing\.tar\.gz/);
  });
});
