import { configureTracing } from '@stratus/core';
import { SecretsManagerPeer, startOtlpReceiver } from '@stratus/test-peers';
import { describe, expect, it } from 'vitest';

describe('AWS SDK calls with tracing on', () => {
  it('records a CLIENT span for GetSecretValue, child of the current span, named in X-Amzn-Trace-Id on the wire', async () => {
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
      // What AWS (and the X-Ray service map) sees: the call's own span as the parent, and no extra
      // HTTP span beneath it.
      const [received] = peer.requestsFor('GetSecretValue');
      const traceId = call?.traceId ?? '';
      expect(received?.headers['x-amzn-trace-id']).toBe(
        `Root=1-${traceId.slice(0, 8)}-${traceId.slice(8)};Parent=${call?.spanId};Sampled=1`,
      );
      expect(received?.headers.traceparent).toBeUndefined();
      expect(spans.filter((span) => span.parentSpanId === call?.spanId)).toEqual([]);
    } finally {
      await tracing.shutdown();
      await peer.stop();
      await receiver.close();
    }
  });
});
