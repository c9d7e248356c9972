import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ExportResultCode } from '@opentelemetry/core';
import { type OtlpReceiver, startOtlpReceiver } from '@stratus/test-peers';
import { afterEach, describe, expect, it } from 'vitest';
import { OtlpExportThread } from '../../src/tracing/otlp-export-thread.js';
import { oneSpanExportBody as exportBody } from '../support/otlp-export-body.js';

const fixture = fileURLToPath(new URL('./export-thread-exit.fixture.ts', import.meta.url));

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

  it('fails the exports under way when closed, and starts a new thread for the next export', async () => {
    let answer: () => void = () => {};
    const held = new Promise<undefined>((resolve) => {
      answer = () => resolve(undefined);
    });
    let arrived: () => void = () => {};
    const reached = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    receiver = await startOtlpReceiver({
      refuse: (request) => {
        if (request > 1) return undefined;
        arrived();
        return held;
      },
    });
    thread = new OtlpExportThread({ url: `${receiver.url}/v1/traces`, timeoutMs: 5_000 });
    const stalled = thread.deliver(exportBody('held by the collector'));
    await reached;
    await thread.close();
    const result = await stalled;
    expect(result.code).toBe(ExportResultCode.FAILED);
    expect(result.error?.message).toBe('the OTLP export thread was closed');
    expect(await thread.deliver(exportBody('after'))).toEqual({ code: ExportResultCode.SUCCESS });
    expect(receiver.spans().map((span) => span.name)).toEqual(['after']);
    answer();
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
