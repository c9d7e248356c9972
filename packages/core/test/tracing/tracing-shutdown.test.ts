import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort, startOtlpReceiver } from '@stratus/test-peers';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./tracing-shutdown.fixture.ts', import.meta.url));

/** Runs the fixture to its natural end (it never calls process.exit) and returns its report. */
async function traceAndShutDown(otlpEndpoint: string) {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fixture], {
    env: { PATH: process.env.PATH, OTLP_ENDPOINT: otlpEndpoint },
  });
  return JSON.parse(stdout) as { outcome: string; timersWaitedOn: number[]; openHandles: string[] };
}

describe('tracing.shutdown()', () => {
  it('exports what is pending, then leaves no timer or socket behind, so the process ends on its own', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const report = await traceAndShutDown(receiver.url);
      expect(receiver.spans().map((span) => span.name)).toEqual(['GET', 'work']);
      // Before the fix, an OTLP metrics exporter nobody asked for backed off for seconds against
      // localhost:4318 before shutdown returned.
      expect(report).toEqual({ outcome: 'resolved', timersWaitedOn: [], openHandles: [] });
    } finally {
      await receiver.close();
    }
  }, 60_000);

  it('gives up on an unreachable collector after one last attempt instead of backing off', async () => {
    const report = await traceAndShutDown(`http://127.0.0.1:${await freePort()}`);
    expect(report.outcome).toMatch(/^rejected: .*ECONNREFUSED/);
    expect(report.timersWaitedOn).toEqual([]);
    // (The refused socket may still be closing when the report is written; the process ended anyway.)
  }, 60_000);
});
