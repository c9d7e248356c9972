import { createHash } from 'node:crypto';
import type { SourceObject } from './report.js';

export interface KubernetesJobTemplate {
  namespace: string;
  image: string;
  serviceAccountName?: string;
  /** envFrom: the secret and config map holding the job's settings. */
  envSecret?: string;
  envConfigMap?: string;
  backoffLimit: number;
  ttlSecondsAfterFinished: number;
  cpu: string;
  memory: string;
  /** Region written into the event the pod receives. */
  awsRegion: string;
}

/** A batch/v1 Job manifest, typed as far as this service writes it. */
export interface KubernetesJobManifest {
  apiVersion: 'batch/v1';
  kind: 'Job';
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  spec: {
    backoffLimit: number;
    ttlSecondsAfterFinished: number;
    podReplacementPolicy: 'Failed';
    template: {
      metadata: { labels: Record<string, string> };
      spec: Record<string, unknown> & { restartPolicy: 'Never'; containers: Record<string, unknown>[] };
    };
  };
}

/** A DNS-1123 name (<= 63 characters) for a job id; a hash of the full id keeps truncated names apart. */
export function kubernetesJobName(jobId: string): string {
  const hash = createHash('sha256').update(jobId).digest('hex').slice(0, 8);
  const base = jobId
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63 - hash.length - 1)
    .replace(/-+$/, '');
  return `${base || 'job'}-${hash}`;
}

/** The S3 event the pod gets in `--event-json`: one ObjectCreated record, key encoded as S3 does. */
export function s3EventJsonFor(source: SourceObject, awsRegion: string, eventTime: Date): string {
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion,
        eventTime: eventTime.toISOString(),
        eventName: 'ObjectCreated:Put',
        s3: {
          s3SchemaVersion: '1.0',
          bucket: { name: source.bucket, arn: `arn:aws:s3:::${source.bucket}` },
          object: {
            key: encodeURIComponent(source.key).replace(/%20/g, '+'),
            ...(source.size !== undefined ? { size: source.size } : {}),
            ...(source.eTag ? { eTag: source.eTag } : {}),
            ...(source.versionId ? { versionId: source.versionId } : {}),
          },
        },
      },
    ],
  });
}

/**
 * One Job per file, shaped like the platform's job spec: the service image run as
 * `run s3-data-quality --job-id <id> --event-json <event>`, settings from a secret and a config map,
 * a writable /tmp (the root filesystem is read-only) for the spooled file and DuckDB's spill,
 * restartPolicy Never, a bounded backoff, and cleanup after it finishes.
 *
 * A retried pod resumes the job its crashed predecessor left Running: every pod of the Job runs with
 * JOB_OWNER set to the Job's uid, and the job store lets that same owner start the job again. With
 * podReplacementPolicy Failed, the next pod starts only once the previous one has fully terminated,
 * so two pods never run the job at once.
 */
export function kubernetesJobManifest(
  template: KubernetesJobTemplate,
  jobId: string,
  source: SourceObject,
  now: Date,
): KubernetesJobManifest {
  const labels = {
    'app.kubernetes.io/name': 'file-processing',
    'app.kubernetes.io/component': 'data-quality-job',
    'app.kubernetes.io/managed-by': 'stratus-file-processing',
  };
  const envFrom = [
    ...(template.envSecret ? [{ secretRef: { name: template.envSecret } }] : []),
    ...(template.envConfigMap ? [{ configMapRef: { name: template.envConfigMap } }] : []),
  ];
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: kubernetesJobName(jobId),
      namespace: template.namespace,
      labels,
      annotations: {
        'stratus.dev/job-id': jobId,
        'stratus.dev/source': `s3://${source.bucket}/${source.key}`,
      },
    },
    spec: {
      backoffLimit: template.backoffLimit,
      ttlSecondsAfterFinished: template.ttlSecondsAfterFinished,
      podReplacementPolicy: 'Failed',
      template: {
        metadata: { labels },
        spec: {
          ...(template.serviceAccountName ? { serviceAccountName: template.serviceAccountName } : {}),
          restartPolicy: 'Never',
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'data-quality',
              image: template.image,
              args: [
                'run',
                's3-data-quality',
                '--job-id',
                jobId,
                '--event-json',
                s3EventJsonFor(source, template.awsRegion, now),
              ],
              ...(envFrom.length > 0 ? { envFrom } : {}),
              env: [
                { name: 'DQ_TEMP_DIR', value: '/tmp' },
                {
                  name: 'JOB_OWNER',
                  valueFrom: {
                    fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/controller-uid']" },
                  },
                },
              ],
              resources: {
                requests: { cpu: template.cpu, memory: template.memory },
                limits: { memory: template.memory },
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: {} }],
        },
      },
    },
  };
}
