import { configureTracing } from '@stratus/core';
import { SecretsManagerPeer, startOtlpReceiver } from '@stratus/test-peers';
import { describe, expect, it } from 'vitest';

describe('AWS SDK calls with tracing on', () => {
  it('records a CLIENT span for GetSecretValue, child of the current span', async () => {
    const receiver = await startOtlpReceiver();
    const peer = await new SecretsManagerPeer().start();
    peer.putSecret('stratus/test/traced/api-key', 'traced-key');
    const tracing = await configureTracing({
      SERVICE_NAME: 'identity',
      ENVIRONMENT: 'test',
      ENABLE_TRACING: true,
      OTLP_ENDPOINT: receiver.url,
      TRACING_SAMPLER: 'always-on',
    });
    try {
      // Loaded after configureTracing, as a service's entry point does, so the instrumentation sees it.
      const { SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
      const { secretsManagerApiKeySource } = await import('../../src/secrets/api-key-secret.js');
      const { captureSubsegment } = await import('@stratus/core');
      const source = secretsManagerApiKeySource({
        client: new SecretsManagerClient({ ...peer.clientConfig(), maxAttempts: 1 }),
        secretId: 'stratus/test/traced/api-key',
      });
      expect(await captureSubsegment('load_key', () => source.getApiKey())).toBe('traced-key');
      await tracing.forceFlush();
      const spans = await receiver.waitForSpans((all) => all.some((span) => span.name === 'load_key'));
      const parent = spans.find((span) => span.name === 'load_key');
      const call = spans.find((span) => span.attributes['rpc.method'] === 'GetSecretValue');
      expect(call).toMatchObject({
        name: 'SecretsManager.GetSecretValue',
        kind: 3,
        traceId: parent?.traceId,
        parentSpanId: parent?.spanId,
        attributes: { 'rpc.system': 'aws-api', 'rpc.service': 'SecretsManager' },
      });
    } finally {
      await tracing.shutdown();
      await peer.stop();
      await receiver.close();
    }
  });
});
