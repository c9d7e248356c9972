import { parseS3Event } from '@stratus/aws';
import { describe, expect, it } from 'vitest';
import { kubernetesJobManifest, kubernetesJobName } from '../../src/domain/kubernetes-job-spec.js';
import { incomingFilesOf, jobIdFor } from '../../src/domain/s3-objects.js';

const template = {
  namespace: 'data',
  image: 'registry.example.com/stratus/file-processing:1.2.3',
  serviceAccountName: 'file-processing-jobs',
  envSecret: 'file-processing-secrets',
  envConfigMap: 'file-processing-config',
  backoffLimit: 3,
  ttlSecondsAfterFinished: 3600,
  cpu: '1',
  memory: '2Gi',
  awsRegion: 'us-west-2',
};

describe('kubernetesJobManifest', () => {
  it('shapes a batch/v1 Job like the platform job spec', () => {
    const source = { bucket: 'uploads', key: 'from_client/nm albuquerque/Officer+Detail.csv', size: 42 };
    const manifest = kubernetesJobManifest(template, 'dq-abc-0', source, new Date('2026-01-01T00:00:00Z'));
    expect(manifest).toMatchObject({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { namespace: 'data', annotations: { 'stratus.dev/job-id': 'dq-abc-0' } },
      spec: {
        backoffLimit: 3,
        ttlSecondsAfterFinished: 3600,
        // A retried pod starts only after the previous one has terminated, then resumes as JOB_OWNER.
        podReplacementPolicy: 'Failed',
        template: {
          spec: {
            serviceAccountName: 'file-processing-jobs',
            restartPolicy: 'Never',
            volumes: [{ name: 'tmp', emptyDir: {} }],
          },
        },
      },
    });
    const [container] = manifest.spec.template.spec.containers as {
      image: string;
      args: string[];
      envFrom: unknown[];
      env: unknown[];
      volumeMounts: unknown[];
    }[];
    expect(container?.env).toContainEqual({
      name: 'JOB_OWNER',
      valueFrom: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/controller-uid']" } },
    });
    expect(container?.image).toBe(template.image);
    expect(container?.envFrom).toEqual([
      { secretRef: { name: 'file-processing-secrets' } },
      { configMapRef: { name: 'file-processing-config' } },
    ]);
    expect(container?.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(container?.args.slice(0, 5)).toEqual([
      'run',
      's3-data-quality',
      '--job-id',
      'dq-abc-0',
      '--event-json',
    ]);
    // The pod's event round-trips to the same object, key spaces and plus signs included.
    const parsed = parseS3Event(container?.args[5] as string);
    expect(parsed.kind === 'records' && incomingFilesOf('x', parsed.records)[0]?.source).toEqual(source);
  });

  it('names Jobs as DNS-1123 labels of at most 63 characters, distinct for distinct ids', () => {
    const long = jobIdFor('A'.repeat(80), 0);
    for (const id of [long, 'dq-ABC_def:1-0', 'dq-x-1']) {
      const name = kubernetesJobName(id);
      expect(name).toMatch(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/);
    }
    expect(kubernetesJobName(jobIdFor('A'.repeat(80), 0))).not.toBe(
      kubernetesJobName(jobIdFor('A'.repeat(80), 1)),
    );
  });
});

describe('incomingFilesOf', () => {
  it('keeps ObjectCreated records and derives job ids from the delivery id and record index', () => {
    const files = incomingFilesOf('msg-1', [
      { eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: 'a.csv', size: 3 } } },
      { eventName: 'ObjectRemoved:Delete', s3: { bucket: { name: 'b' }, object: { key: 'gone.csv' } } },
      {
        eventName: 'ObjectCreated:CompleteMultipartUpload',
        s3: { bucket: { name: 'b' }, object: { key: 'c.csv' } },
      },
    ]);
    expect(files).toEqual([
      { jobId: 'dq-msg-1-0', source: { bucket: 'b', key: 'a.csv', size: 3 } },
      { jobId: 'dq-msg-1-2', source: { bucket: 'b', key: 'c.csv' } },
    ]);
  });
});
