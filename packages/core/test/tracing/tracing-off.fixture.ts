/**
 * Serves one request with ENABLE_TRACING=false through the whole public surface, then prints which
 * OpenTelemetry packages the process loaded: with tracing off only the API may be among them.
 */
import { createRequire } from 'node:module';
import {
  annotate,
  captureSubsegment,
  configureTracing,
  createService,
  putMetadata,
} from '../../src/index.js';

const settings = {
  SERVICE_NAME: 'quiet',
  ENVIRONMENT: 'test' as const,
  LOG_LEVEL: 'silent' as const,
  HOST: '127.0.0.1',
  PORT: 0,
  BODY_LIMIT_BYTES: 1024,
  TRUST_PROXY: false,
  SHUTDOWN_TIMEOUT_MS: 1_000,
  READY_CHECK_TIMEOUT_MS: 1_000,
  HEALTH_MAX_EVENT_LOOP_DELAY_MS: 0,
  HEALTH_MAX_HEAP_USED_BYTES: 0,
  HEALTH_MAX_RSS_BYTES: 0,
  HEALTH_RETRY_AFTER_SECONDS: 1,
};
const tracing = await configureTracing({
  ...settings,
  ENABLE_TRACING: false,
  OTLP_ENDPOINT: 'http://127.0.0.1:4318',
});
const service = await createService({
  settings,
  tracing,
  routes: (app) => {
    app.get('/work', async () =>
      captureSubsegment('work', () => {
        annotate('k', 1);
        putMetadata('m', { a: 1 });
        return { done: true };
      }),
    );
  },
});
const url = await service.listen();
const body = await (await fetch(`${url}/work`)).json();
await service.close();
const loaded = Object.keys(createRequire(import.meta.url).cache)
  .map((path) => /node_modules\/(@opentelemetry\/[^/]+|@fastify\/otel)\//.exec(path)?.[1])
  .filter((name): name is string => name !== undefined);
process.stdout.write(`${JSON.stringify({ enabled: tracing.enabled, body, loaded: [...new Set(loaded)] })}\n`);
