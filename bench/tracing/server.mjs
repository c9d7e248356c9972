// One server for the tracing benchmark, in its own process: the same route on the Stratus HTTP kit
// (request logging to the file LOG_FILE) with tracing `off`, or on with `sampled-100` / `sampled-5` X-Ray rules,
// exporting in batches over OTLP/HTTP to OTLP_ENDPOINT. Prints its URL on stdout once listening.
import pino from 'pino';
import {
  annotate,
  baseServiceSettings,
  configureTracing,
  createLogger,
  createService,
  httpSettings,
  loadSettings,
  xrayTracingSettings,
} from '../../packages/core/dist/index.js';

const order = { id: 'o-1', sku: 'A-100', quantity: 2, status: 'accepted', tags: ['priority', 'gift'] };
const mode = process.argv[2];
// Reservoir 0 so the share sampled is exactly the fixed rate, not 1/s more.
const rateOf = { 'sampled-100': 1, 'sampled-5': 0.05 };
if (mode !== 'off' && !(mode in rateOf)) {
  process.stderr.write('usage: server.mjs off|sampled-100|sampled-5\n');
  process.exit(2);
}

const settings = loadSettings(
  baseServiceSettings.extend({ ...httpSettings.shape, ...xrayTracingSettings.shape }),
  {
    env: {
      SERVICE_NAME: 'bench',
      ENVIRONMENT: 'prod',
      PORT: '0',
      LOG_LEVEL: 'info',
      ENABLE_TRACING: String(mode !== 'off'),
      OTLP_ENDPOINT: process.env.OTLP_ENDPOINT ?? 'http://127.0.0.1:4318',
      XRAY_SAMPLING_RULES: JSON.stringify([
        { RuleName: 'Default', Priority: 10000, ReservoirSize: 0, FixedRate: rateOf[mode] ?? 0 },
      ]),
    },
    envFile: false,
  },
);
const tracing = await configureTracing(settings);
const logger = createLogger(settings, {
  destination: pino.destination({ dest: process.env.LOG_FILE, sync: false }),
});
const service = await createService({
  settings,
  logger,
  tracing,
  routes: (app) => {
    app.get('/orders/:id', async (request) => {
      annotate('order_id', request.params.id);
      return order;
    });
  },
});
process.stdout.write(`${await service.listen()}\n`);
