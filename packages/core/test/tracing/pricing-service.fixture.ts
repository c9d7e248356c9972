/**
 * The "pricing" service of the two-services tracing test, run in its own process (as in production:
 * one process, one tracer provider, one service.name). It quotes a price and, to do so, calls the
 * "orders" service back through the service client. It prints its URL on stdout and stops on SIGTERM,
 * flushing its spans.
 */
import { z } from 'zod';
import { createService } from '../../src/http/service.js';
import { apiKeyAuth } from '../../src/service-client/api-key-auth.js';
import { staticApiKey } from '../../src/service-client/api-key-source.js';
import { createServiceClient } from '../../src/service-client/service-client.js';
import { loadSettingsOrExit } from '../../src/settings/load-settings.js';
import { fullSettings, httpSettings } from '../../src/settings/schemas.js';
import { configureTracing } from '../../src/tracing/configure-tracing.js';
import { xrayTracingSettings } from '../../src/tracing/tracing-settings.js';
import { annotate, putMetadata, setUser } from '../../src/tracing/xray-vocabulary.js';

const settings = loadSettingsOrExit(
  fullSettings.extend({ ...httpSettings.shape, ...xrayTracingSettings.shape, API_KEY: z.string().min(1) }),
  { envFile: false },
);
const tracing = await configureTracing(settings);
const orders = createServiceClient({
  baseUrl: settings.API_GATEWAY_URL,
  apiKey: staticApiKey(settings.API_KEY),
});
const catalogEntry = z.object({ sku: z.string(), listPrice: z.number(), wireTraceHeader: z.string() });

const service = await createService({
  settings,
  tracing,
  routes: async (app) => {
    await app.register(apiKeyAuth, { apiKey: staticApiKey(settings.API_KEY) });
    app.get('/quotes/:sku', async (request) => {
      const { sku } = request.params as { sku: string };
      annotate('sku', sku);
      setUser('customer-7');
      const entry = await orders.get(`/catalog/${sku}`, { schema: catalogEntry });
      putMetadata('catalog_entry', entry, 'pricing');
      return {
        sku,
        price: entry.listPrice * 0.9,
        receivedTraceHeader: request.headers['x-amzn-trace-id'],
        receivedTraceparent: request.headers.traceparent,
        catalogSawTraceHeader: entry.wireTraceHeader,
      };
    });
  },
});
const url = await service.run();
process.stdout.write(`${JSON.stringify({ url })}\n`);
