import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { retryAfterMs } from '../service-client/service-client.js';

/** Statuses OTLP/HTTP says to retry (the collector is overloaded or restarting). */
const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);
const MAX_ATTEMPTS = 5;
const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 5_000;

export interface OtlpHttpExportOptions {
  /** The collector's traces URL, e.g. `http://127.0.0.1:4318/v1/traces`. */
  url: string;
  /** Per HTTP attempt. */
  timeoutMs: number;
}

/** How sending one export request ended: accepted, or the error of its last attempt. */
export type DeliveryOutcome = { ok: true } | { ok: false; error: Error };

type Attempt = { ok: true } | { ok: false; retryable: boolean; retryAfterMs?: number; error: Error };

/**
 * Sends OTLP/HTTP export request bodies (JSON) to a collector over keep-alive connections, as the
 * OTLP exporter does: a request the collector refuses for now (429/502/503/504, or no connection) is
 * sent again with backoff (1 s, x1.5 with jitter, or the collector's Retry-After; at most 5 attempts).
 * Once `stopRetrying()` is called each request gets one last attempt and no timer is left behind: the
 * stock exporter waits out its whole retry schedule (about 9 s) when the collector is gone.
 */
export class OtlpHttpExport {
  private readonly url: URL;
  private readonly timeoutMs: number;
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;
  private readonly backoffs = new Set<() => void>();
  private stopping = false;

  constructor(options: OtlpHttpExportOptions) {
    this.url = new URL(options.url);
    this.timeoutMs = options.timeoutMs;
    const https = this.url.protocol === 'https:';
    this.agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.send = https ? httpsRequest : httpRequest;
  }

  /** Sends one export request, whose body is `body`'s parts one after the other. */
  async deliver(body: readonly Uint8Array[]): Promise<DeliveryOutcome> {
    let backoffMs = FIRST_BACKOFF_MS;
    for (let attempt = 1; ; attempt++) {
      const result = await this.post(body);
      if (result.ok) return result;
      if (!result.retryable || this.stopping || attempt === MAX_ATTEMPTS)
        return { ok: false, error: result.error };
      await this.backoff(result.retryAfterMs ?? backoffMs * (0.8 + Math.random() * 0.4));
      backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 1.5);
    }
  }

  /** From now on a failed request is not sent again: shutdown must not wait on a backoff. */
  stopRetrying(): void {
    this.stopping = true;
    for (const wakeUp of this.backoffs) wakeUp();
  }

  /** Waits `ms`, or less when stopRetrying() comes first. */
  private backoff(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wakeUp = () => {
        clearTimeout(timer);
        this.backoffs.delete(wakeUp);
        resolve();
      };
      const timer = setTimeout(wakeUp, Math.min(ms, MAX_BACKOFF_MS));
      this.backoffs.add(wakeUp);
    });
  }

  private post(body: readonly Uint8Array[]): Promise<Attempt> {
    let length = 0;
    for (const part of body) length += part.byteLength;
    return new Promise((resolve) => {
      const request = this.send(this.url, {
        method: 'POST',
        agent: this.agent,
        headers: { 'content-type': 'application/json', 'content-length': length },
        timeout: this.timeoutMs,
      });
      request.on('timeout', () => request.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      request.on('error', (error) => resolve({ ok: false, retryable: true, error }));
      request.on('response', (response: IncomingMessage) => {
        const status = response.statusCode ?? 0;
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (text.length < 500) text += chunk;
        });
        response.on('error', (error) => resolve({ ok: false, retryable: true, error }));
        response.on('end', () => {
          if (status >= 200 && status < 300) return resolve({ ok: true });
          const error = new Error(
            `OTLP receiver ${this.url.origin} answered ${status}: ${text.slice(0, 200)}`,
          );
          resolve({
            ok: false,
            retryable: RETRYABLE_STATUSES.has(status),
            retryAfterMs: retryAfterMs(response.headers['retry-after'] ?? null),
            error,
          });
        });
      });
      for (const part of body) request.write(part);
      request.end();
    });
  }
}

/**
 * A delivery's error as one line, for the main thread (it gets only text from the export thread):
 * the message, or for a failed connection with none (Node tries each address of `localhost` and
 * throws an AggregateError with an empty message) the errors of each attempt; the code in front
 * where the text does not say it.
 */
export function describeDeliveryError(error: Error & { code?: string }): string {
  const attempts = error instanceof AggregateError ? error.errors.map((each: Error) => each.message) : [];
  const message = error.message || attempts.join('; ') || error.name;
  return error.code && !message.includes(error.code) ? `${error.code}: ${message}` : message;
}
