import type { Client } from '@opensearch-project/opensearch';
import type { FinalMetricsDocument } from '../domain/final-metrics-document.js';

/** The outcome of delivering one document: null when it was written, else why not. */
export type DeliveryFailure = { reason: string; status: number | undefined } | null;

/** Where final metrics documents go. The OpenSearch sink is the production one. */
export interface FinalMetricsSink {
  /** Delivers every document; resolves with a map job id -> failure (null = delivered). Never rejects. */
  deliver(documents: readonly FinalMetricsDocument[]): Promise<Map<string, DeliveryFailure>>;
}

export interface OpenSearchSinkOptions {
  /** The metrics index (or alias). */
  index: string;
}

/**
 * Upserts final metrics into OpenSearch with one `_bulk` request per batch: an `update` with
 * `doc_as_upsert` per job, document id = job id. Delivering the same document twice changes nothing
 * (OpenSearch answers `noop`), so at-least-once delivery from the outbox never duplicates.
 *
 * The client is injected, so the caller decides how it authenticates: SigV4 with WIF credentials
 * (`@stratus/aws`), basic auth, or none for a local node. Give it `maxRetries: 0`: retries are the
 * relay's job, with backoff that survives restarts.
 */
export class OpenSearchFinalMetricsSink implements FinalMetricsSink {
  constructor(
    private readonly client: Client,
    private readonly options: OpenSearchSinkOptions,
  ) {}

  async deliver(documents: readonly FinalMetricsDocument[]): Promise<Map<string, DeliveryFailure>> {
    const outcome = new Map<string, DeliveryFailure>();
    if (documents.length === 0) return outcome;
    const body: Record<string, unknown>[] = [];
    for (const document of documents) {
      body.push({ update: { _index: this.options.index, _id: document.job_id } });
      body.push({ doc: document, doc_as_upsert: true });
    }
    let items: Record<string, { _id?: string; status: number; error?: { type?: string; reason?: string } }>[];
    try {
      const response = await this.client.bulk({ body });
      items = response.body.items as typeof items;
    } catch (error) {
      const failure = requestFailure(error);
      for (const document of documents) outcome.set(document.job_id, failure);
      return outcome;
    }
    documents.forEach((document, i) => {
      const item = items[i]?.update;
      if (!item) outcome.set(document.job_id, { reason: 'no item in the bulk response', status: undefined });
      else if (item.status >= 200 && item.status < 300) outcome.set(document.job_id, null);
      else
        outcome.set(document.job_id, {
          reason: `${item.error?.type ?? 'error'}: ${item.error?.reason ?? ''}`.slice(0, 500),
          status: item.status,
        });
    });
    return outcome;
  }
}

/**
 * A short, secret-free description of a failed request: the status and OpenSearch's error type, or the
 * connection error's name. Never the request (it carries the signature) nor the node URL (it may carry
 * basic-auth credentials).
 */
function requestFailure(error: unknown): { reason: string; status: number | undefined } {
  const meta = (error as { meta?: { statusCode?: number; body?: unknown } }).meta;
  const status = meta?.statusCode ?? undefined;
  const body = meta?.body as { error?: { type?: string } | string; message?: string } | undefined;
  const type =
    typeof body?.error === 'object'
      ? body.error.type
      : typeof body?.error === 'string'
        ? body.error
        : body?.message;
  const name = error instanceof Error ? error.name : 'Error';
  return {
    reason: [name, status, type]
      .filter((part) => part !== undefined)
      .join(' ')
      .slice(0, 300),
    status,
  };
}
