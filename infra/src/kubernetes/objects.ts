/**
 * Typed Kubernetes objects: only the fields Stratus sets, named as in the Kubernetes API reference,
 * so a typo is a compile error instead of a silently ignored key at `kubectl apply`.
 */

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface Namespace {
  readonly apiVersion: 'v1';
  readonly kind: 'Namespace';
  readonly metadata: ObjectMeta;
}

export interface ServiceAccount {
  readonly apiVersion: 'v1';
  readonly kind: 'ServiceAccount';
  readonly metadata: ObjectMeta;
  readonly automountServiceAccountToken?: boolean;
}

export interface ConfigMap {
  readonly apiVersion: 'v1';
  readonly kind: 'ConfigMap';
  readonly metadata: ObjectMeta;
  readonly data: Readonly<Record<string, string>>;
}

export interface HttpProbe {
  readonly httpGet: { readonly path: string; readonly port: string | number };
  readonly initialDelaySeconds?: number;
  readonly periodSeconds: number;
  readonly timeoutSeconds: number;
  readonly failureThreshold: number;
}

export interface ResourceQuantities {
  readonly cpu: string;
  readonly memory: string;
  readonly 'ephemeral-storage'?: string;
}

export interface EnvFromSource {
  readonly configMapRef?: { readonly name: string; readonly optional?: boolean };
  readonly secretRef?: { readonly name: string; readonly optional?: boolean };
}

export interface Container {
  readonly name: string;
  readonly image: string;
  readonly imagePullPolicy: 'IfNotPresent' | 'Always';
  readonly args?: readonly string[];
  readonly ports?: readonly {
    readonly name: string;
    readonly containerPort: number;
    readonly protocol: 'TCP';
  }[];
  readonly env?: readonly { readonly name: string; readonly value: string }[];
  readonly envFrom?: readonly EnvFromSource[];
  readonly resources: { readonly requests: ResourceQuantities; readonly limits: ResourceQuantities };
  readonly startupProbe?: HttpProbe;
  readonly livenessProbe?: HttpProbe;
  readonly readinessProbe?: HttpProbe;
  readonly securityContext: {
    readonly runAsNonRoot: true;
    readonly runAsUser: number;
    readonly allowPrivilegeEscalation: false;
    readonly readOnlyRootFilesystem: boolean;
    readonly capabilities: { readonly drop: readonly ['ALL'] };
    readonly seccompProfile: { readonly type: 'RuntimeDefault' };
  };
  readonly volumeMounts?: readonly {
    readonly name: string;
    readonly mountPath: string;
    readonly readOnly?: boolean;
  }[];
}

export type Volume =
  | { readonly name: string; readonly emptyDir: { readonly sizeLimit?: string } }
  | { readonly name: string; readonly configMap: { readonly name: string } };

export interface PodSpec {
  readonly serviceAccountName: string;
  readonly containers: readonly Container[];
  readonly restartPolicy?: 'Always' | 'Never' | 'OnFailure';
  readonly terminationGracePeriodSeconds?: number;
  readonly volumes?: readonly Volume[];
  readonly topologySpreadConstraints?: readonly {
    readonly maxSkew: number;
    readonly topologyKey: string;
    readonly whenUnsatisfiable: 'ScheduleAnyway' | 'DoNotSchedule';
    readonly labelSelector: { readonly matchLabels: Readonly<Record<string, string>> };
  }[];
}

export interface PodTemplate {
  readonly metadata: { readonly labels: Readonly<Record<string, string>> };
  readonly spec: PodSpec;
}

export interface Deployment {
  readonly apiVersion: 'apps/v1';
  readonly kind: 'Deployment';
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly replicas: number;
    readonly selector: { readonly matchLabels: Readonly<Record<string, string>> };
    readonly strategy: {
      readonly type: 'RollingUpdate';
      readonly rollingUpdate: { readonly maxUnavailable: number; readonly maxSurge: number };
    };
    readonly template: PodTemplate;
  };
}

export interface Service {
  readonly apiVersion: 'v1';
  readonly kind: 'Service';
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly type: 'ClusterIP';
    readonly selector: Readonly<Record<string, string>>;
    readonly ports: readonly {
      readonly name: string;
      readonly port: number;
      readonly targetPort: string;
      readonly protocol: 'TCP';
    }[];
  };
}

export interface Job {
  readonly apiVersion: 'batch/v1';
  readonly kind: 'Job';
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly backoffLimit: number;
    readonly ttlSecondsAfterFinished: number;
    readonly activeDeadlineSeconds: number;
    readonly template: PodTemplate;
  };
}

export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

export interface Role {
  readonly apiVersion: 'rbac.authorization.k8s.io/v1';
  readonly kind: 'Role';
  readonly metadata: ObjectMeta;
  readonly rules: readonly PolicyRule[];
}

export interface RoleBinding {
  readonly apiVersion: 'rbac.authorization.k8s.io/v1';
  readonly kind: 'RoleBinding';
  readonly metadata: ObjectMeta;
  readonly roleRef: {
    readonly apiGroup: 'rbac.authorization.k8s.io';
    readonly kind: 'Role';
    readonly name: string;
  };
  readonly subjects: readonly {
    readonly kind: 'ServiceAccount';
    readonly name: string;
    readonly namespace: string;
  }[];
}

export type KubernetesObject =
  | Namespace
  | ServiceAccount
  | ConfigMap
  | Deployment
  | Service
  | Job
  | Role
  | RoleBinding;
