import { BatchV1Api, KubeConfig, type V1Job } from '@kubernetes/client-node';
import { awsRegionOf, type Logger } from '@stratus/core';
import type { JobDispatcher } from '../app/job-intake.js';
import type { FileProcessingSettings } from '../config/settings.js';
import { type KubernetesJobTemplate, kubernetesJobManifest } from '../domain/kubernetes-job-spec.js';
import type { IncomingFile } from '../domain/s3-objects.js';

/** Dispatches each file as a batch/v1 Job; the pod runs the Pending job and records Done or Failed. */
export class KubernetesDispatcher implements JobDispatcher {
  private readonly batch: BatchV1Api;

  constructor(
    kubeConfig: KubeConfig,
    private readonly template: KubernetesJobTemplate,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.batch = kubeConfig.makeApiClient(BatchV1Api);
  }

  static fromSettings(settings: FileProcessingSettings, logger: Logger): KubernetesDispatcher {
    const kubeConfig = new KubeConfig();
    if (settings.KUBECONFIG) kubeConfig.loadFromFile(settings.KUBECONFIG);
    else kubeConfig.loadFromDefault();
    return new KubernetesDispatcher(kubeConfig, templateOf(settings), logger);
  }

  async dispatch(file: IncomingFile): Promise<void> {
    const manifest = kubernetesJobManifest(this.template, file.jobId, file.source, this.now());
    try {
      await this.batch.createNamespacedJob({
        namespace: this.template.namespace,
        body: manifest as unknown as V1Job,
      });
      this.logger.info(
        { event: 'kubernetes_job_created', job_id: file.jobId, kubernetes_job: manifest.metadata.name },
        'Kubernetes Job created',
      );
    } catch (error) {
      // Same name = same job id: it was dispatched before (a redelivery or the start-up sweep).
      if ((error as { code?: number }).code === 409) {
        this.logger.info(
          { event: 'kubernetes_job_exists', job_id: file.jobId },
          'Kubernetes Job already exists',
        );
        return;
      }
      throw error;
    }
  }

  async close(): Promise<void> {}
}

export function templateOf(settings: FileProcessingSettings): KubernetesJobTemplate {
  return {
    namespace: settings.K8S_NAMESPACE,
    image: settings.K8S_JOB_IMAGE as string,
    ...(settings.K8S_SERVICE_ACCOUNT ? { serviceAccountName: settings.K8S_SERVICE_ACCOUNT } : {}),
    ...(settings.K8S_ENV_SECRET ? { envSecret: settings.K8S_ENV_SECRET } : {}),
    ...(settings.K8S_ENV_CONFIGMAP ? { envConfigMap: settings.K8S_ENV_CONFIGMAP } : {}),
    backoffLimit: settings.K8S_BACKOFF_LIMIT,
    ttlSecondsAfterFinished: settings.K8S_TTL_SECONDS_AFTER_FINISHED,
    cpu: settings.K8S_JOB_CPU,
    memory: settings.K8S_JOB_MEMORY,
    awsRegion: awsRegionOf(settings) ?? 'us-east-1',
  };
}
