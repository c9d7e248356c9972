import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

// Tests run against the TypeScript sources of the workspace packages, so no build is needed first.
const workspaceSources: Record<string, string> = {
  '@stratus/core': 'packages/core/src/index.ts',
  '@stratus/aws': 'packages/aws/src/index.ts',
  '@stratus/jobs': 'packages/jobs/src/index.ts',
  '@stratus/test-peers': 'test/peers/src/index.ts',
  '@stratus/cli': 'packages/cli/src/index.ts',
};

export default defineConfig({
  resolve: {
    alias: [
      ...Object.entries(workspaceSources).map(([find, path]) => ({
        find: new RegExp(`^${find}$`),
        replacement: `${root}${path}`,
      })),
      // Entry points (package.json `exports`): `@stratus/<package>/<part>` is packages/<package>/src/<part>.ts.
      { find: /^@stratus\/(core|aws|jobs)\/([a-z0-9-]+)$/, replacement: `${root}packages/$1/src/$2.ts` },
    ],
  },
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'services/*/test/**/*.test.ts',
      'infra/test/**/*.test.ts',
      'test/peers/test/**/*.test.ts',
    ],
    reporters: ['default', './tools/vitest-summary-reporter.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
