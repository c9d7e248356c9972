import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Worker } from 'node:worker_threads';
import { ExportResultCode } from '@opentelemetry/core';
import { type OtlpReceiver, startOtlpReceiver } from '@stratus/test-peers';
import { afterEach, describe, expect, it } from 'vitest';
import { OtlpExportThread } from '../../src/tracing/otlp-export-thread.js';
import { describeDeliveryError } from '../../src/tracing/otlp-http-export.js';
import { oneSpanExportBody as exportBody } from '../support/otlp-export-body.js';

const fixture = fileURLToPath(new URL('./export-thread-exit.fixture.ts', import.meta.url));

/** The thread's worker, if one is running (private: the tests look at it, and stop it as a crash would). */
const threadOf = (exportThread: OtlpExportThread) =>
  (exportThread as unknown as { worker: Worker | undefined }).worker;

let receiver: OtlpReceiver | undefined;
let thread: OtlpExportThread | undefined;
afterEach(async () => {
  await thread?.close();
  await receiver?.close();
  thread = undefined;
  receiver = undefined;
});

describe('OtlpExportThread', () => {
  it('sends each body from its thread, moving the bytes there rather than copying them', async () => {
    receiver = await startOtlpReceiver();
    thread = new OtlpExportThread({ url: `${receiver.url}/v1/traces`, timeoutMs: 5_000 });
    const body = exportBody('moved');
    const result = await thread.deliver(body);
    expect(result).toEqual({ code: ExportResultCode.SUCCESS });
    expect(body.map((part) => part.buffer.byteLength)).toEqual([0, 0]); // detached: now the thread's
    expect(receiver.spans().map((span) => span.name)).toEqual(['moved']);
  });

  it('reports a refusal with the collector status and message, and sends again on a retryable one', async () => {
    const refusals = [503, 400];
    receiver = await startOtlpReceiver({ refuse: () => refusals.shift() });
    thread = new OtlpExportThread({ url: `${receiver.url}/v1/traces`, timeoutMs: 5_000 });
    // 503 is retried after a backoff; 400 is final.
    const result = await thread.deliver(exportBody('refused'));
    expect(result.code).toBe(ExportResultCode.FAILED);
    expect(result.error?.message).toMatch(/answered 400: .*refused with 400 by the test/);
    expect(receiver.exportCount()).toBe(0);
  }, 10_000);

  it('fails the exports under way when closed, and every export after, starting no thread', async () => {
    let arrived: () => void = () => {};
    const reached = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    receiver = await startOtlpReceiver({
      refuse: () => {
        arrived();
        return new Promise(() => {}); // a collector that never answers
      },
    });
    thread = new OtlpExportThread({ url: `${receiver.url}/v1/traces`, timeoutMs: 5_000 });
    const stalled = thread.deliver(exportBody('held by the collector'));
    await reached;
    await thread.close();
    const closed = { code: ExportResultCode.FAILED, error: new Error('the OTLP export thread was closed') };
    expect(await stalled).toEqual(closed);
    expect(await thread.deliver(exportBody('too late'))).toEqual(closed);
    expect(threadOf(thread)).toBeUndefined();
  });

  it('fails the exports of a thread that died, and starts a new one for the next export', async () => {
    receiver = await startOtlpReceiver({
      refuse: (request) => (request === 1 ? new Promise(() => {}) : undefined),
    });
    thread = new OtlpExportThread({ url: `${receiver.url}/v1/traces`, timeoutMs: 5_000 });
    const lost = thread.deliver(exportBody('lost'));
    await threadOf(thread)?.terminate(); // plays a thread that crashed
    const result = await lost;
    expect(result.code).toBe(ExportResultCode.FAILED);
    expect(result.error?.message).toMatch(/^the OTLP export thread exited with code \d+$/);
    expect(await thread.deliver(exportBody('after'))).toEqual({ code: ExportResultCode.SUCCESS });
    expect(receiver.spans().map((span) => span.name)).toEqual(['after']);
  });

  it('gives a failed connection one attempt and no retry once told to stop retrying', async () => {
    // A collector that hangs up on every connection: retryable, so each retry would be a connection.
    let connections = 0;
    const hangingUp = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => hangingUp.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = hangingUp.address() as AddressInfo;
      thread = new OtlpExportThread({ url: `http://127.0.0.1:${port}/v1/traces`, timeoutMs: 5_000 });
      thread.stopRetrying();
      const result = await thread.deliver(exportBody('one try'));
      expect(result.code).toBe(ExportResultCode.FAILED);
      expect(result.error?.message).toMatch(/socket hang up|ECONNRESET/);
      expect(connections).toBe(1);
    } finally {
      await new Promise((resolve) => hangingUp.close(resolve));
    }
  });

  it('refuses a collector URL that is not one when made, not at the first export', () => {
    expect(() => new OtlpExportThread({ url: 'not a url', timeoutMs: 5_000 })).toThrow(/Invalid URL/);
  });

  it('holds the process open while an export is under way, and not once it is done', async () => {
    receiver = await startOtlpReceiver({
      // A slow collector: the process must still wait for it.
      refuse: () => new Promise((resolve) => setTimeout(() => resolve(undefined), 300)),
    });
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fixture], {
      env: { PATH: process.env.PATH, OTLP_ENDPOINT: receiver.url },
      timeout: 15_000,
    });
    // The fixture started an export and returned at once; it ended once the export was sent.
    expect(stdout).toBe('export started\n');
    expect(receiver.spans().map((span) => span.name)).toEqual(['first words', 'last words']);
  }, 20_000);
});

describe('describeDeliveryError', () => {
  it('says why a connection failed when Node gives no message (each address of localhost refused)', () => {
    const refused = (address: string) =>
      Object.assign(new Error(`connect ECONNREFUSED ${address}:4318`), { code: 'ECONNREFUSED' });
    const every = Object.assign(new AggregateError([refused('::1'), refused('127.0.0.1')], ''), {
      code: 'ECONNREFUSED',
    });
    expect(describeDeliveryError(every)).toBe(
      'connect ECONNREFUSED ::1:4318; connect ECONNREFUSED 127.0.0.1:4318',
    );
    expect(describeDeliveryError(Object.assign(new Error(''), { code: 'ECONNRESET' }))).toBe(
      'ECONNRESET: Error',
    );
    expect(describeDeliveryError(refused('127.0.0.1'))).toBe('connect ECONNREFUSED 127.0.0.1:4318');
    expect(describeDeliveryError(new Error('OTLP receiver answered 400: bad'))).toBe(
      'OTLP receiver answered 400: bad',
    );
  });
});
