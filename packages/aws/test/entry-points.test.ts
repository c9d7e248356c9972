import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
const entries = Object.keys(
  (
    JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    }
  ).exports,
)
  .filter((path) => path !== '.')
  .map((path) => path.slice(2));

/** Every package a module loads, following its relative imports through the sources (type-only imports cost nothing at run time). */
function packagesLoadedBy(file: string, seen = new Set<string>()): Set<string> {
  const packages = new Set<string>();
  if (seen.has(file)) return packages;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(/^(?:import|export)(?!\s+type\s)[^'"]*?from\s+'([^']+)'/gm)) {
    const specifier = match[1]!;
    if (specifier.startsWith('.')) {
      for (const name of packagesLoadedBy(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')), seen))
        packages.add(name);
    } else packages.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier);
  }
  return packages;
}

const sourceOf = (entry: string) => join(packageRoot, 'src', `${entry}.ts`);

describe('@stratus/aws entry points', () => {
  it('each `exports` subpath has its source, and `.` exports everything they do', async () => {
    expect(entries).toEqual(
      expect.arrayContaining(['credentials', 'events', 'local-objects', 'objects', 'sns', 'sigv4']),
    );
    const everything = (await import('@stratus/aws')) as Record<string, unknown>;
    for (const entry of entries) {
      expect(existsSync(sourceOf(entry)), entry).toBe(true);
      const module = (await import(`@stratus/aws/${entry}`)) as Record<string, unknown>;
      for (const [name, value] of Object.entries(module))
        expect(everything[name], `${entry}: ${name}`).toBe(value);
    }
  });

  it('the light entry points load no AWS SDK client, OpenSearch or Google auth', () => {
    const heavy = [
      '@aws-sdk/client-s3',
      '@aws-sdk/client-secrets-manager',
      '@aws-sdk/credential-providers',
      '@opensearch-project/opensearch',
      'google-auth-library',
    ];
    for (const entry of ['events', 'local-objects', 'settings', 'sigv4', 'sns'])
      expect(
        [...packagesLoadedBy(sourceOf(entry))].filter((name) => heavy.includes(name)),
        entry,
      ).toEqual([]);
    // The check itself sees imports: the S3 reader's entry does load the S3 client.
    expect(packagesLoadedBy(sourceOf('objects'))).toContain('@aws-sdk/client-s3');
  });
});
