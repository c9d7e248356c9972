import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Annotations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { InfraConfigError } from '../config/resolve-environment.js';

/** Context key: when true, a missing bundle is replaced by the placeholder (tests, offline synth). */
export const allowPlaceholdersContext = 'stratus:allowPlaceholders';

const placeholderDir = fileURLToPath(new URL('../../assets/placeholder-lambda', import.meta.url));
const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** A Lambda function's code and the handler in it. */
export interface FunctionBundle {
  readonly code: lambda.Code;
  /** `<file>.<export>` */
  readonly handler: string;
}

/**
 * The code of a Lambda function from a prebuilt bundle directory (relative to the repository root)
 * holding `<entry>.mjs` or `<entry>.js` that exports `handler`. Bundles are built by the service's own
 * esbuild step, never here: synth needs no Docker and no network.
 */
export function prebuiltBundle(scope: Construct, bundleDir: string, entry: string): FunctionBundle {
  const directory = `${repositoryRoot}${bundleDir}`;
  const built = ['.mjs', '.js'].some((extension) => existsSync(`${directory}/${entry}${extension}`));
  if (built) return { code: lambda.Code.fromAsset(directory), handler: `${entry}.handler` };
  placeholderAllowed(
    scope,
    'lambda bundle',
    `${bundleDir}/${entry}.mjs`,
    "build the service's Lambda bundles before diff/deploy",
  );
  return { code: lambda.Code.fromAsset(placeholderDir), handler: 'index.handler' };
}

/** The text of a file of the repository (a spec, a ruleset) that the stacks ship into the cluster. */
export function repositoryFileText(scope: Construct, path: string, placeholder: string): string {
  const file = `${repositoryRoot}${path}`;
  if (existsSync(file)) return readFileSync(file, 'utf8');
  placeholderAllowed(scope, 'file', path, 'add it before diff/deploy');
  return placeholder;
}

function placeholderAllowed(scope: Construct, what: string, path: string, remedy: string): void {
  if (scope.node.tryGetContext(allowPlaceholdersContext) !== true) {
    throw new InfraConfigError(what, `${path} does not exist: ${remedy}`);
  }
  Annotations.of(scope).addInfo(`${path} does not exist; synthesized with a placeholder`);
}
