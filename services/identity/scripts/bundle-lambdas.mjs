#!/usr/bin/env node
// Builds the two Lambda bundles with esbuild: one ESM file per function (tree-shaken, minified, with
// a source map), everything bundled but Node's built-ins. Prints each bundle's size; exits 1 if a
// bundle reaches the 1 MB budget. Usage: node scripts/bundle-lambdas.mjs [--out-dir <dir>]
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const HELP = `bundle-lambdas: build the identity Lambda bundles

  --out-dir <dir>  where to write <function>.mjs and .mjs.map (default services/identity/dist/lambda)
  --help           this text`;

export const FUNCTIONS = ['auth-exchange', 'user-profile'];
export const BUNDLE_BUDGET_BYTES = 1_000_000;

const workspace = join(dirname(fileURLToPath(import.meta.url)), '..');
const repository = join(workspace, '..', '..');

/**
 * `import { z } from 'zod'` hands over zod's whole namespace as one value, so nothing of it can be
 * shaken out (its 70 locales alone are 300 KB); `import * as z` is the same object, read property by
 * property, which esbuild can prune.
 */
const zodNamespaceImports = {
  name: 'zod-namespace-imports',
  setup(builder) {
    builder.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      return {
        contents: source.replace(/^import \{ z \} from 'zod';$/m, "import * as z from 'zod';"),
        loader: 'ts',
      };
    });
  },
};

export async function bundleLambdas(outDir = join(workspace, 'dist', 'lambda')) {
  await mkdir(outDir, { recursive: true });
  const result = await build({
    entryPoints: Object.fromEntries(
      FUNCTIONS.map((name) => [name, join(workspace, 'src', 'handlers', `${name}.ts`)]),
    ),
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    minify: true,
    treeShaking: true,
    sourcemap: true,
    sourcesContent: false,
    legalComments: 'none',
    // The ES module builds of the AWS SDK and OpenTelemetry tree-shake better than their CommonJS ones.
    mainFields: ['module', 'main'],
    // The workspace packages from their TypeScript sources, as the tests use them.
    alias: { '@stratus/core': join(repository, 'packages', 'core', 'src', 'index.ts') },
    // CommonJS dependencies inside an ES module bundle still call require() for Node built-ins.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    plugins: [zodNamespaceImports],
    metafile: true,
    logLevel: 'warning',
  });
  const bundles = [];
  for (const name of FUNCTIONS) {
    const file = join(outDir, `${name}.mjs`);
    bundles.push({ name, file, bytes: (await stat(file)).size });
  }
  return { bundles, metafile: result.metafile };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { 'out-dir': { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const { bundles } = await bundleLambdas(values['out-dir']);
  let overBudget = false;
  for (const bundle of bundles) {
    const over = bundle.bytes >= BUNDLE_BUDGET_BYTES;
    overBudget ||= over;
    console.log(
      `${relative(process.cwd(), bundle.file)}  ${(bundle.bytes / 1024).toFixed(0)} KiB${over ? '  OVER 1 MB' : ''}`,
    );
  }
  process.exitCode = overBudget ? 1 : 0;
}
