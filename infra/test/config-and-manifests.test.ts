import { App, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { createStratusApp } from '../src/app.js';
import { InfraConfigError, imageUri, resolveEnvironment } from '../src/config/resolve-environment.js';
import { prebuiltBundle } from '../src/constructs/build-inputs.js';
import {
  fileJobTemplate,
  httpWorkload,
  inApplyOrder,
  jobDispatcherRbac,
} from '../src/kubernetes/workloads.js';

const digest = `sha256:${'a'.repeat(64)}`;

describe('resolveEnvironment', () => {
  it('gives each environment its own account, network and bucket names', () => {
    const [dev, test, prod] = (['dev', 'test', 'prod'] as const).map((name) => resolveEnvironment(name));
    expect(new Set([dev!.account, test!.account, prod!.account]).size).toBe(3);
    expect(new Set([dev!.network.cidr, test!.network.cidr, prod!.network.cidr]).size).toBe(3);
    expect(prod!.network.natGateways).toBe(prod!.network.maxAzs);
    expect(prod!.retainData).toBe(true);
    expect(dev!.fileProcessing.inputBucketName).toBe('stratus-dev-incoming-111111111111');
  });

  it('applies an account override to the names that embed it', () => {
    const config = resolveEnvironment('test', { account: '444455556666' });
    expect(config.account).toBe('444455556666');
    expect(config.evalMetrics.groundTruthBucketName).toBe('stratus-test-ground-truth-444455556666');
  });

  it('pins a passed image digest into the image reference', () => {
    const config = resolveEnvironment('dev', { imageDigests: { 'eval-metrics': digest } });
    expect(imageUri(config, config.evalMetrics.image)).toBe(
      `111111111111.dkr.ecr.eu-west-1.amazonaws.com/stratus/eval-metrics@${digest}`,
    );
  });

  it.each([
    ['an unknown environment', 'staging', {}, /^env: must be one of dev, test, prod/],
    ['a short account id', 'dev', { account: '1234' }, /^account: must be a 12-digit AWS account id/],
    ['a made-up region', 'dev', { region: 'moon-1' }, /^region: "moon-1" is not an AWS region/],
    [
      'a tag instead of a digest',
      'dev',
      { imageDigests: { 'file-processing': 'latest' } },
      /^imageDigest\.file-processing: must be sha256:/,
    ],
    [
      'an upper-case digest',
      'dev',
      { imageDigests: { api: `sha256:${'A'.repeat(64)}` } },
      /^imageDigest\.api: must be/,
    ],
  ])('refuses %s with an error naming the setting', (_case, name, overrides, message) => {
    expect(() => resolveEnvironment(name, overrides)).toThrow(InfraConfigError);
    expect(() => resolveEnvironment(name, overrides)).toThrow(message);
  });
});

describe('Kubernetes workloads', () => {
  const spec = {
    name: 'eval-metrics',
    namespace: 'eval-metrics',
    serviceAccountName: 'eval-metrics',
    roleArn: 'arn:aws:iam::111111111111:role/eval',
    image: `111111111111.dkr.ecr.eu-west-1.amazonaws.com/stratus/eval-metrics@${digest}`,
    replicas: 2,
    port: 8080,
    settings: { LOG_LEVEL: 'info' },
    requests: { cpu: '250m', memory: '256Mi' },
    limits: { cpu: '500m', memory: '512Mi' },
    secretEnvFrom: ['langfuse'],
  };

  it('refuses an image given by tag', () => {
    expect(() => httpWorkload({ ...spec, image: 'stratus/eval-metrics:latest' })).toThrow(/pinned by digest/);
    expect(() =>
      fileJobTemplate({
        ...spec,
        image: 'stratus/file-processing:1.0',
        configMapName: 'x',
        scratchSize: '1Gi',
      }),
    ).toThrow(/pinned by digest/);
  });

  it('runs restricted: non-root, no privilege escalation, read-only root, all capabilities dropped', () => {
    const container = httpWorkload(spec).deployment.spec.template.spec.containers[0]!;
    expect(container.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
  });

  it('listens on all interfaces in the pod and takes secrets from the named Secret', () => {
    const workload = httpWorkload(spec);
    expect(workload.configMap.data).toMatchObject({ HOST: '0.0.0.0', PORT: '8080', LOG_LEVEL: 'info' });
    expect(workload.deployment.spec.template.spec.containers[0]!.envFrom).toEqual([
      { configMapRef: { name: 'eval-metrics' } },
      { secretRef: { name: 'langfuse' } },
    ]);
    expect(workload.deployment.spec.strategy.rollingUpdate).toEqual({ maxUnavailable: 0, maxSurge: 1 });
    expect(workload.service.spec.selector).toEqual(workload.deployment.spec.selector.matchLabels);
  });

  it('mounts files read-only from their own config map', () => {
    const workload = httpWorkload({
      ...spec,
      files: {
        configMapName: 'eval-metrics-spec',
        mountPath: '/etc/eval-metrics',
        data: { 'spec.yaml': 'a: 1' },
      },
    });
    expect(workload.filesConfigMap?.data).toEqual({ 'spec.yaml': 'a: 1' });
    const pod = workload.deployment.spec.template.spec;
    expect(pod.volumes).toContainEqual({ name: 'files', configMap: { name: 'eval-metrics-spec' } });
    expect(pod.containers[0]!.volumeMounts).toContainEqual({
      name: 'files',
      mountPath: '/etc/eval-metrics',
      readOnly: true,
    });
  });

  it('shapes the per-file job as the platform job spec and lets only its own account create jobs', () => {
    const job = fileJobTemplate({
      ...spec,
      name: 'file-processing',
      configMapName: 'file-processing',
      scratchSize: '8Gi',
    });
    expect(job.spec).toMatchObject({ backoffLimit: 3, ttlSecondsAfterFinished: 3600 });
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(job.spec.template.spec.containers[0]!.args).toEqual(['run', 's3-data-quality']);
    const [role, binding] = jobDispatcherRbac('file-processing', 'file-processing');
    expect(role.rules[0]).toEqual({
      apiGroups: ['batch'],
      resources: ['jobs'],
      verbs: ['create', 'get', 'list', 'watch', 'delete'],
    });
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'file-processing', namespace: 'file-processing' },
    ]);
  });

  it('puts the namespace first when applying', () => {
    const workload = httpWorkload(spec);
    const ordered = inApplyOrder([workload.deployment, workload.service, workload.namespace]);
    expect(ordered.map((object) => object.kind)).toEqual(['Namespace', 'Deployment', 'Service']);
  });
});

describe('build inputs and checks', () => {
  it('refuses to synthesize a missing Lambda bundle unless placeholders are allowed', () => {
    const strict = new Stack(new App(), 'Strict');
    expect(() => prebuiltBundle(strict, 'services/nowhere/dist/lambda', 'handler-entry')).toThrow(
      /services\/nowhere\/dist\/lambda\/handler-entry\.mjs does not exist: build the service's Lambda bundles/,
    );
    const lenient = new Stack(new App({ context: { 'stratus:allowPlaceholders': true } }), 'Lenient');
    expect(prebuiltBundle(lenient, 'services/nowhere/dist/lambda', 'handler-entry').handler).toBe(
      'index.handler',
    );
  });

  it('fails synth on an unacknowledged cdk-nag error in the app', () => {
    const { app } = createStratusApp({ environments: [], allowPlaceholders: true });
    const stack = new Stack(app, 'Careless', { env: { account: '111111111111', region: 'eu-west-1' } });
    new s3.Bucket(stack, 'Unlogged', { enforceSSL: false });
    expect(() => app.synth()).toThrow(/AwsSolutions-S1\b/);
  });
});
