import { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '@stratus/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesDispatcher } from '../src/adapters/kubernetes-dispatcher.js';
import { kubernetesJobName } from '../src/domain/kubernetes-job-spec.js';
import { KubernetesApiPeer } from './kubernetes-api-peer.js';

const logger = createLogger({
  SERVICE_NAME: 'file-processing-test',
  ENVIRONMENT: 'test',
  LOG_LEVEL: 'silent',
});
const template = {
  namespace: 'data',
  image: 'registry.example.com/stratus/file-processing:1.2.3',
  serviceAccountName: 'file-processing-jobs',
  envSecret: 'file-processing-secrets',
  envConfigMap: 'file-processing-config',
  backoffLimit: 3,
  ttlSecondsAfterFinished: 600,
  cpu: '1',
  memory: '2Gi',
  awsRegion: 'us-east-1',
};

function kubeConfigFor(peer: KubernetesApiPeer, token: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'loopback', server: peer.url, skipTLSVerify: true }],
    users: [{ name: 'dispatcher', token }],
    contexts: [{ name: 'loopback', cluster: 'loopback', user: 'dispatcher' }],
    currentContext: 'loopback',
  });
  return config;
}

describe('KubernetesDispatcher against a loopback Kubernetes API', () => {
  let peer: KubernetesApiPeer;
  beforeAll(async () => {
    peer = await new KubernetesApiPeer().start();
  });
  afterAll(async () => {
    await peer?.stop();
  });

  it('creates one batch/v1 Job per file, and treats an existing one as already dispatched', async () => {
    const dispatcher = new KubernetesDispatcher(kubeConfigFor(peer, peer.token), template, logger);
    const file = { jobId: 'dq-msg-1-0', source: { bucket: 'uploads', key: 'from_client/a.csv', size: 10 } };
    await dispatcher.dispatch(file);
    const stored = peer.jobs.get(`data/${kubernetesJobName(file.jobId)}`) as {
      spec: { template: { spec: { serviceAccountName: string; containers: { args: string[] }[] } } };
    };
    expect(stored.spec.template.spec.serviceAccountName).toBe('file-processing-jobs');
    expect(stored.spec.template.spec.containers[0]?.args).toContain('dq-msg-1-0');

    await dispatcher.dispatch(file);
    expect(peer.requests.map((request) => request.status)).toEqual([201, 409]);
    expect(peer.jobs.size).toBe(1);
  });

  it('fails the dispatch when the API refuses the credentials', async () => {
    const dispatcher = new KubernetesDispatcher(kubeConfigFor(peer, 'wrong-token'), template, logger);
    await expect(
      dispatcher.dispatch({ jobId: 'dq-msg-2-0', source: { bucket: 'uploads', key: 'b.csv' } }),
    ).rejects.toMatchObject({ code: 401 });
    expect(peer.jobs.size).toBe(1);
  });
});
