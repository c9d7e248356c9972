// One server for the sns-listener benchmark, in its own process: `echo` (bare fastify answering
// POST / with the body it got) or `listener` (the file-processing listener on built dist/ code:
// SNS verification with the signing certificate cached after the first message, S3 event parsing,
// one Pending job created per notification in the job store (Postgres at BENCH_DATABASE_URL, else
// embedded PGlite), request logs at info
// to a file). The listener's dispatcher only counts: this measures intake, not the DuckDB jobs.
// Prints its URL on stdout once listening, then its CPU time on each SIGUSR2.
import { mkdtempSync, readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import pino from 'pino';

const [mode, certificatePemFile, topicArn] = process.argv.slice(2);
// The runner reads the CPU time this process has used (µs, all threads) before and after a round.
process.on('SIGUSR2', () => {
  const { user, system } = process.cpuUsage();
  process.stdout.write(`${user + system}\n`);
});

if (mode === 'echo') {
  const app = Fastify({ bodyLimit: 300 * 1024 });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  app.post('/', async (request) => request.body);
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`http://127.0.0.1:${app.server.address().port}\n`);
} else if (mode === 'listener') {
  const { createLogger, loadSettings } = await import('@stratus/core');
  const { JobStore, migrate, openDatabase } = await import('@stratus/jobs');
  const { createFileProcessingService } = await import(
    '../../services/file-processing/dist/app/file-processing-service.js'
  );
  const { fileProcessingSettings } = await import('../../services/file-processing/dist/config/settings.js');
  const { RulesetCatalog } = await import('../../services/file-processing/dist/domain/ruleset-selection.js');
  const settings = loadSettings(fileProcessingSettings, {
    envFile: false,
    env: {
      ENVIRONMENT: 'prod',
      PORT: '0',
      LOG_LEVEL: process.env.LISTENER_LOG_LEVEL ?? 'info',
      SNS_TRUSTED_CERT_HOST_PATTERN: '^127\\.0\\.0\\.1$',
      SNS_TOPIC_ARN_ALLOWLIST: topicArn,
      AWS_REGION: 'us-east-1',
      LOCAL_S3_ROOT: tmpdir(),
    },
  });
  const logFile = join(mkdtempSync(join(tmpdir(), 'stratus-bench-')), 'service.log');
  const logger = createLogger(settings, { destination: pino.destination({ dest: logFile, sync: false }) });
  // Postgres (as in production) when BENCH_DATABASE_URL is set, else embedded PGlite.
  const databaseUrl = process.env.BENCH_DATABASE_URL;
  const db = await openDatabase(databaseUrl ? { databaseUrl, maxConnections: 10 } : {});
  const schema = `bench_sns_${process.pid}`;
  await migrate(db, schema);
  let dispatched = 0;
  const app = await createFileProcessingService({
    settings,
    jobs: new JobStore(db, { schema }),
    rulesets: new RulesetCatalog([]),
    logger,
    certificateAgent: new Agent({ ca: readFileSync(certificatePemFile, 'utf8') }),
    dispatcher: () => ({
      dispatch: async () => {
        dispatched++;
      },
      close: async () => {},
    }),
  });
  const url = await app.service.listen();
  process.on('SIGTERM', async () => {
    process.stderr.write(`dispatched ${dispatched}\n`);
    await db.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => {});
    process.exit(0);
  });
  process.stdout.write(`${url}\n`);
}
