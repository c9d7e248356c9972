/**
 * A process that traces one unit of work, shuts tracing down, and reports what shutdown waited on
 * and left behind: every timer of this thread that went off while shutdown ran (a guard timer that
 * is cleared is not one) and the handles still open afterwards. The OTLP export's own retries and
 * backoff run in its export thread, out of this one's sight: otlp-export-thread.test.ts counts
 * those attempts. It never calls process.exit: the test also sees whether it ends on its own.
 * OTLP_ENDPOINT comes from the environment.
 */
import { trace } from '@opentelemetry/api';
import { configureTracing } from '../../src/tracing/configure-tracing.js';

const tracing = await configureTracing({
  SERVICE_NAME: 'shutdown-check',
  ENVIRONMENT: 'test',
  ENABLE_TRACING: true,
  OTLP_ENDPOINT: String(process.env.OTLP_ENDPOINT),
  TRACING_SAMPLER: 'always-on',
});
// The work calls out over HTTP, as services do (instrumentations also record metrics of such calls).
await trace.getTracer('fixture').startActiveSpan('work', async (span) => {
  await fetch(String(process.env.OTLP_ENDPOINT)).catch(() => undefined);
  span.end();
});

const timersWaitedOn: number[] = [];
let shuttingDown = true;
const setTimeoutOfNode = globalThis.setTimeout;
globalThis.setTimeout = ((callback: (...args: unknown[]) => void, delay?: number, ...args: unknown[]) =>
  setTimeoutOfNode(
    (...passed: unknown[]) => {
      if (shuttingDown) timersWaitedOn.push(delay ?? 0);
      callback(...passed);
    },
    delay,
    ...args,
  )) as typeof setTimeout;
let outcome: string;
try {
  await tracing.shutdown();
  outcome = 'resolved';
} catch (error) {
  outcome = `rejected: ${(error as Error).message}`;
}
shuttingDown = false;
globalThis.setTimeout = setTimeoutOfNode;
// A socket that failed closes on the next turn of the event loop.
await new Promise((resolve) => setImmediate(resolve));
const openHandles = process.getActiveResourcesInfo().filter((kind) => !/TTYWrap|PipeWrap/.test(kind));
process.stdout.write(`${JSON.stringify({ outcome, timersWaitedOn, openHandles })}\n`);
