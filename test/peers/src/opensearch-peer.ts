import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { readBody } from './request-body.js';
import {
  generateTestCredentials,
  headerValue,
  PeerCredentialStore,
  type PeerCredentials,
  SigV4Verifier,
} from './sigv4-verifier.js';

/**
 * How the peer authenticates requests, like the domain it stands in for: Amazon OpenSearch Service
 * with IAM (SigV4, signing name `es`), the security plugin's basic auth, or an open local node.
 */
export type OpenSearchPeerAuth =
  | { kind: 'sigv4'; credentials?: PeerCredentialStore }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'none' };

export interface StoredDocument {
  source: Record<string, unknown>;
  version: number;
  seqNo: number;
}

/** One document write the peer applied, with OpenSearch's result: `created`, `updated` or `noop`. */
export interface AppliedWrite {
  index: string;
  id: string;
  action: 'index' | 'create' | 'update' | 'delete';
  result: 'created' | 'updated' | 'noop' | 'deleted' | 'not_found';
}

export interface RecordedOpenSearchRequest {
  method: string;
  path: string;
  status: number;
  /** The access key (SigV4) or user name (basic) that authenticated the request. */
  principal: string | undefined;
  /** Operations in a bulk request; 1 for a single-document request. */
  operations: number;
}

const maxBodyBytes = 100 * 1024 * 1024;

/**
 * A loopback OpenSearch node on 127.0.0.1:0 implementing the document APIs the final-metrics relay uses,
 * with their real request and response bodies: `POST /_bulk` and `POST /{index}/_bulk` (NDJSON `index`,
 * `create`, `update`, `delete`), `POST /{index}/_update/{id}` (`doc`, `doc_as_upsert`, `upsert`) and
 * `GET /{index}/_doc/{id}`. Updates that change nothing answer `noop`, as OpenSearch's `detect_noop` does,
 * which is what makes repeated deliveries visible. Every request's auth is checked first.
 * Faults for tests: `startOutage()` (every request answers 503), `rejectNextItems(n)` (bulk items
 * answer 429 es_rejected_execution_exception) and `holdRequests()` (requests wait until released).
 */
export class OpenSearchPeer {
  readonly requests: RecordedOpenSearchRequest[] = [];
  readonly writes: AppliedWrite[] = [];
  readonly credentials: PeerCredentialStore;
  /** The key `clientCredentials` signs with, when auth is SigV4. */
  readonly defaultCredentials: PeerCredentials;
  readonly region = 'eu-west-1';

  private readonly indices = new Map<string, Map<string, StoredDocument>>();
  private readonly verifier: SigV4Verifier;
  private readonly server: Server;
  private readonly held: (() => void)[] = [];
  private outageStatus: number | undefined;
  private itemRejections = 0;
  private holding = false;
  private seqNo = 0;
  private listeningUrl: string | undefined;

  constructor(private readonly auth: OpenSearchPeerAuth = { kind: 'none' }) {
    this.defaultCredentials = generateTestCredentials();
    this.credentials = (auth.kind === 'sigv4' ? auth.credentials : undefined) ?? new PeerCredentialStore();
    this.credentials.add(this.defaultCredentials);
    this.verifier = new SigV4Verifier({ service: 'es', credentials: this.credentials });
    this.server = createServer((req, res) => {
      this.serve(req, res).catch((error: unknown) => {
        if (!res.headersSent) sendError(res, 500, 'exception', String(error));
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.listeningUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.releaseRequests();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get url(): string {
    if (!this.listeningUrl) throw new Error('peer not started');
    return this.listeningUrl;
  }

  /** Every request answers `status` (default 503) until `endOutage()`. */
  startOutage(status = 503): void {
    this.outageStatus = status;
  }

  endOutage(): void {
    this.outageStatus = undefined;
  }

  /** The next `count` bulk items are rejected with 429, as a node whose write queue is full does. */
  rejectNextItems(count: number): void {
    this.itemRejections += count;
  }

  /** Requests arriving from now on wait, unanswered, until `releaseRequests()`. */
  holdRequests(): void {
    this.holding = true;
  }

  releaseRequests(): void {
    this.holding = false;
    for (const release of this.held.splice(0)) release();
  }

  /** Requests currently waiting because of `holdRequests()`. */
  get heldRequests(): number {
    return this.held.length;
  }

  document(index: string, id: string): StoredDocument | undefined {
    return this.indices.get(index)?.get(id);
  }

  documentIds(index: string): string[] {
    return [...(this.indices.get(index)?.keys() ?? [])].sort();
  }

  /** Writes that created or changed the document with this id (noops excluded). */
  effectiveWrites(index: string, id: string): AppliedWrite[] {
    return this.writes.filter((w) => w.index === index && w.id === id && w.result !== 'noop');
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, maxBodyBytes);
    const url = new URL(req.url ?? '/', 'http://peer.invalid');
    const record: RecordedOpenSearchRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      status: 0,
      principal: undefined,
      operations: 0,
    };
    this.requests.push(record);
    res.once('finish', () => {
      record.status = res.statusCode;
    });
    if (this.holding) await new Promise<void>((resolve) => this.held.push(resolve));
    if (body === undefined)
      return sendError(res, 413, 'content_too_long_exception', 'request body too large');
    const denied = await this.authenticate(req, res, body, record);
    if (denied) return;
    if (this.outageStatus !== undefined) {
      return sendError(res, this.outageStatus, 'cluster_block_exception', 'peer outage (injected)');
    }

    const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const method = record.method;
    if ((method === 'POST' || method === 'PUT') && segments.at(-1) === '_bulk' && segments.length <= 2) {
      return this.bulk(res, body, segments.length === 2 ? segments[0] : undefined, record);
    }
    if (method === 'POST' && segments.length === 3 && segments[1] === '_update') {
      record.operations = 1;
      return this.updateOne(res, segments[0]!, segments[2]!, body);
    }
    if (method === 'GET' && segments.length === 3 && segments[1] === '_doc') {
      const stored = this.document(segments[0]!, segments[2]!);
      const found = { _index: segments[0], _id: segments[2] };
      if (!stored) return sendJson(res, 404, { ...found, found: false });
      return sendJson(res, 200, {
        ...found,
        _version: stored.version,
        _seq_no: stored.seqNo,
        _primary_term: 1,
        found: true,
        _source: stored.source,
      });
    }
    return sendError(
      res,
      405,
      'illegal_argument_exception',
      `Incorrect HTTP method for uri [${url.pathname}] and method [${method}]`,
    );
  }

  /** Sends the auth failure and returns true when the request may not proceed. */
  private async authenticate(
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    record: RecordedOpenSearchRequest,
  ): Promise<boolean> {
    if (this.auth.kind === 'none') return false;
    if (this.auth.kind === 'basic') {
      const given = headerValue(req.headers, 'authorization') ?? '';
      const expected = `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password}`).toString('base64')}`;
      if (given === expected) {
        record.principal = this.auth.username;
        return false;
      }
      res.setHeader('www-authenticate', 'Basic realm="OpenSearch Security"');
      sendError(res, 401, 'security_exception', 'Authentication finally failed');
      return true;
    }
    const verdict = await this.verifier.verify({
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body,
    });
    if (verdict.ok) {
      record.principal = verdict.accessKeyId;
      return false;
    }
    // Amazon OpenSearch Service answers IAM failures with a bare message, not the OpenSearch error shape.
    sendJson(res, 403, { message: verdict.message });
    return true;
  }

  private bulk(
    res: ServerResponse,
    body: Buffer,
    defaultIndex: string | undefined,
    record: RecordedOpenSearchRequest,
  ): void {
    const lines = body
      .toString('utf8')
      .split('\n')
      .filter((line) => line.trim().length > 0);
    const items: Record<string, unknown>[] = [];
    const started = Date.now();
    for (let i = 0; i < lines.length; ) {
      let header: Record<string, Record<string, unknown>>;
      try {
        header = JSON.parse(lines[i]!);
      } catch {
        sendError(res, 400, 'json_parse_exception', `Malformed action/metadata line [${i + 1}]`);
        return;
      }
      const action = Object.keys(header)[0] as AppliedWrite['action'] | undefined;
      if (!action || !['index', 'create', 'update', 'delete'].includes(action)) {
        sendError(
          res,
          400,
          'illegal_argument_exception',
          `Malformed action/metadata line [${i + 1}], expected one of [create, delete, index, update] but found [${action}]`,
        );
        return;
      }
      const meta = header[action] ?? {};
      const index = (meta._index as string | undefined) ?? defaultIndex;
      const id = meta._id as string | undefined;
      const hasSource = action !== 'delete';
      const sourceLine = hasSource ? lines[i + 1] : undefined;
      i += hasSource ? 2 : 1;
      if (!index) {
        sendError(res, 400, 'action_request_validation_exception', 'Validation Failed: 1: index is missing;');
        return;
      }
      if (hasSource && sourceLine === undefined) {
        sendError(res, 400, 'illegal_argument_exception', 'The bulk request must be terminated by a newline');
        return;
      }
      if (this.itemRejections > 0) {
        this.itemRejections--;
        items.push({
          [action]: {
            _index: index,
            _id: id,
            status: 429,
            error: { type: 'es_rejected_execution_exception', reason: 'rejected execution (injected)' },
          },
        });
        continue;
      }
      let source: Record<string, unknown> | undefined;
      try {
        source = sourceLine === undefined ? undefined : JSON.parse(sourceLine);
      } catch {
        items.push(itemError(index, id, 400, 'mapper_parsing_exception', 'failed to parse'));
        continue;
      }
      items.push({ [action]: this.applyWrite(action, index, id, source) });
    }
    record.operations = items.length;
    sendJson(res, 200, {
      took: Date.now() - started,
      errors: items.some((item) => (Object.values(item)[0] as { status: number }).status >= 300),
      items,
    });
  }

  private updateOne(res: ServerResponse, index: string, id: string, body: Buffer): void {
    let request: Record<string, unknown>;
    try {
      request = JSON.parse(body.toString('utf8'));
    } catch {
      sendError(res, 400, 'json_parse_exception', 'failed to parse request body');
      return;
    }
    const outcome = this.applyWrite('update', index, id, request);
    if ('error' in outcome) {
      sendJson(res, outcome.status as number, { error: outcome.error, status: outcome.status });
      return;
    }
    sendJson(res, outcome.status as number, outcome);
  }

  /** Applies one document operation; returns its bulk item body (status, result or error). */
  private applyWrite(
    action: AppliedWrite['action'],
    index: string,
    id: string | undefined,
    source: Record<string, unknown> | undefined,
  ): Record<string, unknown> {
    const docs = this.indices.get(index) ?? new Map<string, StoredDocument>();
    this.indices.set(index, docs);
    if (id === undefined || id === '')
      return itemError(index, id, 400, 'action_request_validation_exception', 'id is missing');
    const existing = docs.get(id);
    let next: Record<string, unknown> | undefined;
    if (action === 'delete') {
      if (!existing) return this.applied(action, index, id, 'not_found', 404, undefined);
      docs.delete(id);
      return this.applied(action, index, id, 'deleted', 200, existing.version + 1);
    }
    if (!isObject(source))
      return itemError(index, id, 400, 'mapper_parsing_exception', 'source is not an object');
    if (action === 'create' && existing)
      return itemError(
        index,
        id,
        409,
        'version_conflict_engine_exception',
        `[${id}]: document already exists`,
      );
    if (action === 'update') {
      const doc = source.doc;
      if (doc !== undefined && !isObject(doc))
        return itemError(index, id, 400, 'mapper_parsing_exception', 'doc is not an object');
      if (existing) {
        if (!isObject(doc))
          return itemError(index, id, 400, 'action_request_validation_exception', 'script or doc is missing');
        next = deepMerge(existing.source, doc);
      } else if (source.doc_as_upsert === true && isObject(doc)) {
        next = doc;
      } else if (isObject(source.upsert)) {
        next = source.upsert;
      } else {
        return itemError(index, id, 404, 'document_missing_exception', `[${id}]: document missing`);
      }
    } else {
      next = source;
    }
    if (existing && isDeepStrictEqual(existing.source, next))
      return this.applied(action, index, id, 'noop', 200, existing.version);
    const version = (existing?.version ?? 0) + 1;
    docs.set(id, { source: next, version, seqNo: this.seqNo++ });
    return this.applied(action, index, id, existing ? 'updated' : 'created', existing ? 200 : 201, version);
  }

  private applied(
    action: AppliedWrite['action'],
    index: string,
    id: string,
    result: AppliedWrite['result'],
    status: number,
    version: number | undefined,
  ): Record<string, unknown> {
    this.writes.push({ index, id, action, result });
    return {
      _index: index,
      _id: id,
      _version: version,
      result,
      _shards: { total: 1, successful: 1, failed: 0 },
      _seq_no: this.seqNo,
      _primary_term: 1,
      status,
    };
  }
}

function itemError(
  index: string,
  id: string | undefined,
  status: number,
  type: string,
  reason: string,
): Record<string, unknown> {
  return { _index: index, _id: id, status, error: { type, reason, index } };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** OpenSearch's partial-update merge: objects merge key by key, anything else is replaced. */
function deepMerge(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key];
    out[key] = isObject(current) && isObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, type: string, reason: string): void {
  sendJson(res, status, { error: { root_cause: [{ type, reason }], type, reason }, status });
}
