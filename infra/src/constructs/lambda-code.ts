import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Annotations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { InfraConfigError } from '../config/resolve-environment.js';

/** Context key: when true, a missing bundle is replaced by the placeholder (tests, offline synth). */
export const allowPlaceholderBundlesContext = 'stratus:allowPlaceholderBundles';

const placeholderDir = fileURLToPath(new URL('../../assets/placeholder-lambda', import.meta.url));
const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The code of a Lambda function from a prebuilt bundle directory (relative to the repository root).
 * Bundles are built by the service's own esbuild step, never here: synth needs no Docker and no network.
 */
export function prebuiltBundle(scope: Construct, bundleDir: string): lambda.Code {
  const directory = `${repositoryRoot}${bundleDir}`;
  if (existsSync(directory)) return lambda.Code.fromAsset(directory);
  if (scope.node.tryGetContext(allowPlaceholderBundlesContext) === true) {
    Annotations.of(scope).addInfo(`${bundleDir} is not built; synthesized with the placeholder handler`);
    return lambda.Code.fromAsset(placeholderDir);
  }
  throw new InfraConfigError(
    'lambda bundle',
    `${bundleDir} does not exist: build the service's Lambda bundles before diff/deploy`,
  );
}
