import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/store/database.js';
import { ensurePgliteTemplate } from '../src/store/pglite-template.js';

describe('openDatabase with pgliteTemplateFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pglite-template-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('starts a new data folder from the template, and never replaces an existing database', async () => {
    const template = await ensurePgliteTemplate();
    expect(await ensurePgliteTemplate()).toBe(template);
    const dataDir = join(dir, 'db');
    const first = await openDatabase({ dataDir, pgliteTemplateFile: template });
    await first.query('CREATE TABLE kept (value text)');
    await first.query("INSERT INTO kept VALUES ('still here')");
    await first.close();

    const again = await openDatabase({ dataDir, pgliteTemplateFile: template });
    expect(await again.query<{ value: string }>('SELECT value FROM kept')).toEqual([{ value: 'still here' }]);
    await again.close();
  }, 60_000);

  it('fails clearly when the template file is missing', async () => {
    await expect(
      openDatabase({ dataDir: join(dir, 'other'), pgliteTemplateFile: join(dir, 'missing.tar.gz') }),
    ).rejects.toThrow(/missing\.tar\.gz/);
  });
});
