/**
 * Configures tracing (OTEL_LOG_LEVEL comes from the environment), then writes one warning and one
 * debug message through OpenTelemetry's diag API: which of them are printed is the level's doing.
 */
import { diag } from '@opentelemetry/api';
import { configureTracing } from '../../src/tracing/configure-tracing.js';

const tracing = await configureTracing({
  SERVICE_NAME: 'orders',
  ENVIRONMENT: 'local',
  ENABLE_TRACING: true,
  OTLP_ENDPOINT: 'http://127.0.0.1:9',
});
diag.warn('collector falling behind');
diag.debug('noise');
await tracing.shutdown();
