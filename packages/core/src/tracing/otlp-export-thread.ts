import { Worker } from 'node:worker_threads';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { OtlpHttpExportOptions } from './otlp-http-export.js';

/** What the export thread starts with (its `workerData`). */
export interface ExportThreadSetup extends OtlpHttpExportOptions {
  stopRetrying: boolean;
}

/** A message to the export thread. */
export type ExportThreadRequest =
  | { type: 'deliver'; id: number; body: Uint8Array[] }
  | { type: 'stop-retrying' };

/** The export thread's answer to a `deliver`, once that export request is sent or given up. */
export type ExportThreadReply = { id: number; ok: true } | { id: number; ok: false; message: string };

/**
 * Sends export request bodies to the collector from a worker thread of their own
 * (`OtlpHttpExport` in otlp-export-worker.ts), so that no HTTP client runs beside the service's
 * HTTP server on the thread that serves requests. Node's HTTP server and client share their code
 * (outgoing and incoming messages, the parser's callbacks, stream writes): a client in the same
 * thread, even one sending a request a second, turns the inline caches of that code polymorphic,
 * and every request served pays for it. In bench/tracing's server at 5 % sampled that was about
 * 2-3 µs of Node's own code per request (CPU profiles), more than the sampled spans themselves cost.
 *
 * Bodies are moved to the thread, not copied: a body is a list of parts (`OtlpJsonBatch.body()`),
 * each a view of an ArrayBuffer that is moved whole, so none may be a slice of Node's shared pool.
 * The thread starts with the first export (about 120 ms before that export is sent, and about
 * 20 MB of memory, once, from dist/ on this VM), and holds the process open only while an export is
 * under way, as a socket would. Should it die, the exports it
 * had fail and the next export starts a new one. `close()` is final.
 */
export class OtlpExportThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, (result: ExportResult) => void>();
  private lastId = 0;
  private stopping = false;
  private closed = false;

  /** Throws for a URL that is not one now, rather than failing every export later in the thread. */
  constructor(private readonly options: OtlpHttpExportOptions) {
    new URL(options.url);
  }

  /**
   * Sends the request body made of `body`'s parts (moved: unusable here afterwards) and resolves once
   * it is accepted or given up.
   */
  deliver(body: Uint8Array[]): Promise<ExportResult> {
    if (this.closed) return Promise.resolve(failed(new Error('the OTLP export thread was closed')));
    const id = ++this.lastId;
    try {
      const worker = this.worker ?? this.start();
      const request: ExportThreadRequest = { type: 'deliver', id, body };
      const moved = new Set(body.map((part) => part.buffer as ArrayBuffer));
      worker.postMessage(request, [...moved]);
      worker.ref();
      return new Promise((resolve) => this.pending.set(id, resolve));
    } catch (error) {
      // No thread could be started, or the body could not be moved (a part already detached).
      return Promise.resolve(failed(error as Error));
    }
  }

  /** From now on a refused export is not sent again: each under way gets its last attempt. */
  stopRetrying(): void {
    this.stopping = true;
    const request: ExportThreadRequest = { type: 'stop-retrying' };
    this.worker?.postMessage(request);
  }

  /** Stops the thread for good; exports still under way fail, and so does any after. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (worker === undefined) return;
    this.lost(worker, new Error('the OTLP export thread was closed'));
    await worker.terminate();
  }

  private start(): Worker {
    const setup: ExportThreadSetup = { ...this.options, stopRetrying: this.stopping };
    const worker = startExportWorker(setup);
    worker.unref();
    worker.on('message', (reply: ExportThreadReply) => {
      this.settle(reply.id, reply.ok ? { code: ExportResultCode.SUCCESS } : failed(new Error(reply.message)));
    });
    worker.on('error', (error) => this.lost(worker, error));
    worker.on('exit', (code) =>
      this.lost(worker, new Error(`the OTLP export thread exited with code ${code}`)),
    );
    this.worker = worker;
    return worker;
  }

  private settle(id: number, result: ExportResult): void {
    const resolve = this.pending.get(id);
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker?.unref();
    resolve?.(result);
  }

  /** The exports `worker` had fail with `error`; the next export starts another thread. */
  private lost(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    for (const resolve of this.pending.values()) resolve(failed(error));
    this.pending.clear();
  }
}

function failed(error: Error): ExportResult {
  return { code: ExportResultCode.FAILED, error };
}

/**
 * The worker runs the module beside this one: compiled JavaScript in dist/. Under vitest this module
 * is the TypeScript source, which Node 20 cannot run, so the worker then loads the source through
 * tsx (a development dependency of the repository).
 */
function startExportWorker(setup: ExportThreadSetup): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./otlp-export-worker.js', import.meta.url), { workerData: setup });
  const source = JSON.stringify(new URL('./otlp-export-worker.ts', import.meta.url).href);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const bootstrap = `import(${tsx}).then(({ register }) => { register(); return import(${source}); });`;
  return new Worker(bootstrap, { eval: true, workerData: setup });
}
