import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';

const fixture = join(import.meta.dirname, 'fixtures', 'slow-service.ts');

interface ChildService {
  child: ChildProcess;
  url: string;
  lines: Record<string, unknown>[];
  waitFor(event: string): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

async function startChild(env: Record<string, string>): Promise<ChildService> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    env: { PATH: process.env.PATH, SERVICE_NAME: 'slow', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: Record<string, unknown>[] = [];
  const waiters: { event: string; resolve: (line: Record<string, unknown>) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    lines.push(line);
    for (const waiter of waiters.filter((w) => w.event === line.event)) waiter.resolve(line);
  });
  const waitFor = (event: string) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const seen = lines.find((line) => line.event === event);
      if (seen) resolve(seen);
      else waiters.push({ event, resolve });
    });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = await waitFor('service_started');
  return { child, url: String(started.url), lines, waitFor, exited };
}

function connectionRefused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('graceful shutdown', () => {
  let running: ChildService | undefined;
  afterEach(() => {
    running?.child.kill('SIGKILL');
  });

  it('on SIGTERM stops accepting, finishes the in-flight request, runs close hooks and exits 0', async () => {
    running = await startChild({ SHUTDOWN_TIMEOUT_MS: '5000' });
    let inFlightDone = false;
    const inFlight = fetch(`${running.url}/slow?ms=1500`).finally(() => {
      inFlightDone = true;
    });
    await running.waitFor('request_started');
    running.child.kill('SIGTERM');
    await running.waitFor('shutdown_started');

    // The listener closes right after the signal; the slow request is still being served then.
    let refused = false;
    for (let attempt = 0; attempt < 50 && !refused; attempt++) {
      refused = await connectionRefused(running.url);
      if (!refused) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(refused).toBe(true);
    expect(inFlightDone).toBe(false);
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ finished: true });
    expect(await running.exited).toBe(0);

    const events = running.lines.map((line) => line.event);
    expect(events).toContain('shutdown_hook_completed');
    expect(events.indexOf('request_completed')).toBeLessThan(events.indexOf('shutdown_hook_completed'));
    // Hooks complete after the last request, and the last lines reach stdout in the order written
    // (pino's stream is ended before exit, not flushed around a write still in flight).
    expect(events.indexOf('shutdown_hook_completed')).toBeLessThan(events.indexOf('shutdown_completed'));
  });

  it('exits 1 when in-flight requests outlast SHUTDOWN_TIMEOUT_MS', async () => {
    running = await startChild({ SHUTDOWN_TIMEOUT_MS: '200' });
    const inFlight = fetch(`${running.url}/slow?ms=10000`).then(
      (response) => response.status,
      () => 'connection closed',
    );
    await running.waitFor('request_started');
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(1);
    expect(await inFlight).toBe('connection closed');
    const failed = running.lines.find((line) => line.event === 'shutdown_failed');
    expect(JSON.stringify(failed)).toContain('did not finish within 200 ms');
  });
});
