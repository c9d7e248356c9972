import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { createStratusApp, type EnvironmentStacks } from '../src/app.js';
import type { KubernetesObject } from '../src/kubernetes/objects.js';

/**
 * All environments synthesized once per test file (synth is CPU-heavy): the stacks, their
 * templates, and the output directory to remove afterwards.
 */
export function synthesizeAllEnvironments() {
  const outdir = mkdtempSync(join(tmpdir(), 'stratus-infra-'));
  const { app, environments } = createStratusApp({ allowPlaceholders: true, outdir });
  // Throws when cdk-nag reports an unacknowledged error.
  const assembly = app.synth();
  const templates = new Map<Stack, Template>();
  const template = (stack: Stack) => {
    let found = templates.get(stack);
    if (!found) {
      found = Template.fromStack(stack);
      templates.set(stack, found);
    }
    return found;
  };
  const allStacks = (env: EnvironmentStacks): Stack[] => [
    env.network,
    env.fileProcessing,
    env.evalMetrics,
    env.platform,
    env.identity,
    env.jobMetrics,
  ];
  return {
    app,
    assembly,
    environments,
    template,
    allStacks,
    cleanup: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

export type SynthesizedApp = ReturnType<typeof synthesizeAllEnvironments>;

/** Statements of every IAM policy document in a template: inline, managed, role and resource policies. */
export function policyStatements(
  template: Template,
): { resource: string; statement: Record<string, unknown> }[] {
  const found: { resource: string; statement: Record<string, unknown> }[] = [];
  const collect = (resource: string, document: unknown) => {
    const statements = (document as { Statement?: Record<string, unknown>[] } | undefined)?.Statement ?? [];
    for (const statement of statements) found.push({ resource, statement });
  };
  const json = template.toJSON() as {
    Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  };
  for (const [id, resource] of Object.entries(json.Resources)) {
    const props = resource.Properties ?? {};
    collect(id, props.PolicyDocument);
    collect(id, props.AssumeRolePolicyDocument);
    collect(id, props.KeyPolicy);
    for (const policy of (props.Policies as { PolicyDocument: unknown }[] | undefined) ?? [])
      collect(id, policy.PolicyDocument);
  }
  return found;
}

export const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/**
 * A CloudFormation `Fn::Join` of literal strings and intrinsics rendered as text, each intrinsic
 * replaced by what `describe` says (e.g. `<issuer>`), so a JSON value built at deploy time can be
 * parsed and compared exactly.
 */
export function renderJoin(
  value: unknown,
  describe: (intrinsic: unknown) => string = () => '<token>',
): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) return describe(value);
  const [separator, parts] = join;
  return parts.map((part) => (typeof part === 'string' ? part : describe(part))).join(separator);
}

/** The Kubernetes objects a stack applies through the cluster, with deploy-time values as `<token>`. */
export function appliedObjects(template: Template): KubernetesObject[] {
  const manifests = Object.values(template.findResources('Custom::AWSCDK-EKS-KubernetesResource'));
  return manifests.flatMap(
    (manifest) => JSON.parse(renderJoin(manifest.Properties!.Manifest)) as KubernetesObject[],
  );
}

export function objectOfKind<K extends KubernetesObject['kind']>(
  objects: KubernetesObject[],
  kind: K,
): Extract<KubernetesObject, { kind: K }> {
  const found = objects.find((object) => object.kind === kind);
  if (!found) throw new Error(`no ${kind} applied`);
  return found as Extract<KubernetesObject, { kind: K }>;
}
