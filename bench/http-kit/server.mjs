// One server for the http-kit benchmark, in its own process: `bare` fastify with its own request
// logging to a file (what a team writes by hand), `bare-unlogged` fastify with no logger at all, or the
// Stratus `kit` with its request logging to a file. Prints its URL on stdout once listening.
// Usage: server.mjs bare|bare-unlogged|kit [log file]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import pino from 'pino';
import {
  baseServiceSettings,
  createLogger,
  createService,
  httpSettings,
  loadSettings,
} from '../../packages/core/dist/index.js';

const order = { id: 'o-1', sku: 'A-100', quantity: 2, status: 'accepted', tags: ['priority', 'gift'] };
const mode = process.argv[2];

const logFile = () => process.argv[3] ?? join(mkdtempSync(join(tmpdir(), 'stratus-bench-')), 'service.log');

if (mode === 'bare' || mode === 'bare-unlogged') {
  const app =
    mode === 'bare'
      ? Fastify({ loggerInstance: pino(pino.destination({ dest: logFile(), sync: false })) })
      : Fastify();
  app.get('/orders/:id', async () => order);
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`http://127.0.0.1:${app.server.address().port}\n`);
} else if (mode === 'kit') {
  const settings = loadSettings(baseServiceSettings.extend(httpSettings.shape), {
    env: {
      SERVICE_NAME: 'bench',
      ENVIRONMENT: 'prod',
      PORT: '0',
      LOG_LEVEL: process.env.KIT_LOG_LEVEL ?? 'info',
    },
    envFile: false,
  });
  const logger = createLogger(settings, { destination: pino.destination({ dest: logFile(), sync: false }) });
  const service = await createService({
    settings,
    logger,
    routes: (app) => {
      app.get('/orders/:id', async () => order);
    },
  });
  process.stdout.write(`${await service.listen()}\n`);
} else {
  process.stderr.write('usage: server.mjs bare|bare-unlogged|kit [log file]\n');
  process.exit(2);
}
