import type {
  ConfigMap,
  Container,
  Deployment,
  HttpProbe,
  Job,
  KubernetesObject,
  Namespace,
  ResourceQuantities,
  Role,
  RoleBinding,
  Service,
  ServiceAccount,
} from './objects.js';

/** The `node` user of the official Node.js images, which the Dockerfiles switch to. */
export const containerUserId = 1000;

const digestReference = /@sha256:[a-f0-9]{64}$/;

export interface HttpWorkloadSpec {
  readonly name: string;
  readonly namespace: string;
  readonly serviceAccountName: string;
  /** The IAM role the service account assumes (IRSA). */
  readonly roleArn: string;
  /** `<registry>/<repository>@sha256:<digest>`: tags are refused. */
  readonly image: string;
  readonly replicas: number;
  readonly port: number;
  readonly settings: Readonly<Record<string, string>>;
  readonly requests: ResourceQuantities;
  readonly limits: ResourceQuantities;
  /** Kubernetes Secrets whose keys become environment variables (synced from Secrets Manager). */
  readonly secretEnvFrom?: readonly string[];
  readonly args?: readonly string[];
  /** Files the service reads (e.g. a spec), mounted read-only from a config map of this name. */
  readonly files?: {
    readonly configMapName: string;
    readonly mountPath: string;
    readonly data: Readonly<Record<string, string>>;
  };
}

export interface HttpWorkload {
  readonly namespace: Namespace;
  readonly serviceAccount: ServiceAccount;
  readonly configMap: ConfigMap;
  readonly deployment: Deployment;
  readonly service: Service;
  readonly filesConfigMap?: ConfigMap;
}

const labelsFor = (name: string) => ({
  'app.kubernetes.io/name': name,
  'app.kubernetes.io/part-of': 'stratus',
});

function probe(path: string, periodSeconds: number, failureThreshold: number): HttpProbe {
  return { httpGet: { path, port: 'http' }, periodSeconds, timeoutSeconds: 2, failureThreshold };
}

const restrictedSecurityContext: Container['securityContext'] = {
  runAsNonRoot: true,
  runAsUser: containerUserId,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

function assertPinnedByDigest(image: string): void {
  if (!digestReference.test(image)) {
    throw new Error(`image must be pinned by digest (<repository>@sha256:<64 hex>), got "${image}"`);
  }
}

/**
 * A long-running HTTP service: namespace, IRSA-annotated service account, settings as a config map,
 * a Deployment (probes on the HTTP kit's /health and /ready, requests/limits, restricted pod security)
 * and a ClusterIP Service.
 */
export function httpWorkload(spec: HttpWorkloadSpec): HttpWorkload {
  assertPinnedByDigest(spec.image);
  const labels = labelsFor(spec.name);
  const meta = (name: string) => ({ name, namespace: spec.namespace, labels });
  const envFrom = [
    { configMapRef: { name: spec.name } },
    ...(spec.secretEnvFrom ?? []).map((name) => ({ secretRef: { name } })),
  ];
  return {
    namespace: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: spec.namespace, labels } },
    serviceAccount: {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: {
        ...meta(spec.serviceAccountName),
        annotations: { 'eks.amazonaws.com/role-arn': spec.roleArn },
      },
    },
    configMap: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(spec.name),
      // The HTTP kit binds 127.0.0.1 by default; in a pod it must listen on all interfaces.
      data: { HOST: '0.0.0.0', PORT: String(spec.port), ...spec.settings },
    },
    deployment: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(spec.name),
      spec: {
        replicas: spec.replicas,
        selector: { matchLabels: labels },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: spec.serviceAccountName,
            terminationGracePeriodSeconds: 30,
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: 'topology.kubernetes.io/zone',
                whenUnsatisfiable: 'ScheduleAnyway',
                labelSelector: { matchLabels: labels },
              },
            ],
            containers: [
              {
                name: spec.name,
                image: spec.image,
                imagePullPolicy: 'IfNotPresent',
                ...(spec.args ? { args: spec.args } : {}),
                ports: [{ name: 'http', containerPort: spec.port, protocol: 'TCP' }],
                envFrom,
                resources: { requests: spec.requests, limits: spec.limits },
                // Start-up may load a ground-truth cache: up to 60 s before liveness takes over.
                startupProbe: probe('/health', 2, 30),
                livenessProbe: probe('/health', 10, 3),
                readinessProbe: probe('/ready', 5, 3),
                securityContext: restrictedSecurityContext,
                volumeMounts: [
                  { name: 'tmp', mountPath: '/tmp' },
                  ...(spec.files ? [{ name: 'files', mountPath: spec.files.mountPath, readOnly: true }] : []),
                ],
              },
            ],
            volumes: [
              { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
              ...(spec.files ? [{ name: 'files', configMap: { name: spec.files.configMapName } }] : []),
            ],
          },
        },
      },
    },
    service: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(spec.name),
      spec: {
        type: 'ClusterIP',
        selector: labels,
        ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
      },
    },
    ...(spec.files
      ? {
          filesConfigMap: {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: meta(spec.files.configMapName),
            data: spec.files.data,
          },
        }
      : {}),
  };
}

export interface FileJobTemplateSpec {
  readonly name: string;
  readonly namespace: string;
  readonly serviceAccountName: string;
  readonly image: string;
  /** Config map and secret the job reads its settings from (the listener's own). */
  readonly configMapName: string;
  readonly scratchSize: string;
}

/**
 * The per-file data-quality Job the listener creates in `kubernetes` dispatch mode. The listener
 * copies it, gives it a unique name and appends `--event-json <event>` to `args`.
 */
export function fileJobTemplate(spec: FileJobTemplateSpec): Job {
  assertPinnedByDigest(spec.image);
  const labels = { ...labelsFor(spec.name), 'app.kubernetes.io/component': 'data-quality-job' };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: `${spec.name}-job`, namespace: spec.namespace, labels },
    spec: {
      backoffLimit: 3,
      ttlSecondsAfterFinished: 3600,
      activeDeadlineSeconds: 3600,
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: spec.serviceAccountName,
          restartPolicy: 'Never',
          containers: [
            {
              name: 'data-quality',
              image: spec.image,
              imagePullPolicy: 'IfNotPresent',
              args: ['run', 's3-data-quality'],
              envFrom: [{ configMapRef: { name: spec.configMapName } }],
              resources: {
                requests: { cpu: '500m', memory: '1Gi', 'ephemeral-storage': spec.scratchSize },
                limits: { cpu: '2', memory: '2Gi', 'ephemeral-storage': spec.scratchSize },
              },
              securityContext: restrictedSecurityContext,
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: spec.scratchSize } }],
        },
      },
    },
  };
}

/** Lets the listener's service account create and watch its per-file Jobs, in its namespace only. */
export function jobDispatcherRbac(namespace: string, serviceAccountName: string): [Role, RoleBinding] {
  const name = `${serviceAccountName}-job-dispatcher`;
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name, namespace },
      rules: [
        { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name, namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name: serviceAccountName, namespace }],
    },
  ];
}

/** Objects in the order `kubectl apply` needs them: the namespace before what lives in it. */
export function inApplyOrder(objects: readonly KubernetesObject[]): KubernetesObject[] {
  return [...objects].sort((a, b) => Number(b.kind === 'Namespace') - Number(a.kind === 'Namespace'));
}
