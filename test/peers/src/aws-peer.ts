import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from './request-body.js';
import {
  generateTestCredentials,
  headerValue,
  PeerCredentialStore,
  type PeerCredentials,
  type SigV4FailureReason,
  SigV4Verifier,
} from './sigv4-verifier.js';

/**
 * The wire protocols of the AWS APIs the peers speak:
 * - `json-1.0` / `json-1.1`: POST `/`, `X-Amz-Target: <prefix>.<Operation>`, JSON in and out
 *   (DynamoDB is 1.0; Secrets Manager, EventBridge are 1.1).
 * - `query`: POST form-encoded `Action=<Operation>&Version=...`, XML out (STS, SNS).
 */
export type AwsProtocol = 'json-1.0' | 'json-1.1' | 'query';

/** An error in the shape the API returns: HTTP status, AWS error code, message. */
export class AwsPeerError extends Error {
  readonly status: number;
  readonly code: string;
  /** Query protocol only: `Sender` for the caller's fault, `Receiver` for the service's. */
  readonly faultType: 'Sender' | 'Receiver';

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.faultType = status >= 500 ? 'Receiver' : 'Sender';
  }
}

/** A request as the peer saw it, after signature check and dispatch. */
export interface RecordedAwsRequest {
  operation: string;
  /** Parsed input: the JSON body (JSON protocols) or the form fields without Action/Version (Query). */
  input: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  /** The access key that signed the request; undefined for an unsigned operation called unsigned. */
  accessKeyId: string | undefined;
  sessionToken: string | undefined;
  status: number;
  /** The AWS error code answered, if the request failed. */
  errorCode: string | undefined;
  receivedAt: Date;
}

/** What a handler receives besides the input. */
export interface AwsOperationContext {
  accessKeyId: string | undefined;
  sessionToken: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  requestId: string;
}

/**
 * Handles one operation. JSON protocols: returns the response object. Query: returns the fields of
 * `<OperationResult>` as an object (nested objects become elements, arrays become `<member>` lists),
 * or undefined for an operation without a result element. Throw AwsPeerError for an API error.
 */
export type AwsOperationHandler = (
  input: Record<string, unknown>,
  context: AwsOperationContext,
) => unknown | Promise<unknown>;

export interface AwsOperationOptions {
  /** The SDK calls this operation without a signature (e.g. STS AssumeRoleWithWebIdentity). */
  unsigned?: boolean;
}

export interface InjectedError {
  status: number;
  code: string;
  message?: string;
  /** How many calls fail before the handler answers again; default 1. */
  times?: number;
}

export interface AwsApiPeerOptions {
  protocol: AwsProtocol;
  /** The SigV4 signing name: `sts`, `secretsmanager`, `events`, `sns`, ... */
  signingName: string;
  /** JSON protocols: the X-Amz-Target prefix, e.g. `secretsmanager`, `AWSEvents`, `DynamoDB_20120810`. */
  targetPrefix?: string;
  /** Query protocol: the XML namespace, e.g. `https://sts.amazonaws.com/doc/2011-06-15/`. */
  xmlNamespace?: string;
  /** Accepted access keys; shared between peers to accept credentials another peer issued. Default: one fresh key. */
  credentials?: PeerCredentialStore;
  /** The region handed to clients by `clientConfig()`. Any region in a signature is accepted. */
  region?: string;
  now?: () => number;
}

const maxBodyBytes = 10 * 1024 * 1024;

/**
 * A loopback AWS API on 127.0.0.1:0 that checks the SigV4 signature of every request against known
 * test credentials, dispatches by protocol to registered operation handlers, answers errors in the
 * API's real shape, and records what it received. Point a real AWS SDK v3 client at it with
 * `new XClient(peer.clientConfig())`.
 */
export class AwsApiPeer {
  /** Every request that reached dispatch, in order, including rejected ones. */
  readonly requests: RecordedAwsRequest[] = [];
  readonly credentials: PeerCredentialStore;
  /** The key `clientConfig()` signs with. */
  readonly defaultCredentials: PeerCredentials;

  private readonly options: AwsApiPeerOptions;
  private readonly verifier: SigV4Verifier;
  private readonly handlers = new Map<string, { handler: AwsOperationHandler; unsigned: boolean }>();
  private readonly injected = new Map<string, InjectedError[]>();
  private readonly server: Server;
  private listeningUrl: string | undefined;

  constructor(options: AwsApiPeerOptions) {
    if (options.protocol === 'query' && !options.xmlNamespace) {
      throw new Error('a Query-protocol peer needs xmlNamespace');
    }
    if (options.protocol !== 'query' && !options.targetPrefix) {
      throw new Error('a JSON-protocol peer needs targetPrefix');
    }
    this.options = options;
    this.defaultCredentials = generateTestCredentials();
    this.credentials = options.credentials ?? new PeerCredentialStore();
    this.credentials.add(this.defaultCredentials);
    this.verifier = new SigV4Verifier({
      service: options.signingName,
      credentials: this.credentials,
      ...(options.now ? { now: options.now } : {}),
    });
    this.server = createServer((req, res) => {
      this.serve(req, res).catch((error: unknown) => {
        this.send(res, randomUUID(), new AwsPeerError(500, 'InternalFailure', String(error)));
      });
    });
  }

  /** Registers (or replaces) the handler of one operation. */
  handle(operation: string, handler: AwsOperationHandler, options: AwsOperationOptions = {}): this {
    this.handlers.set(operation, { handler, unsigned: options.unsigned ?? false });
    return this;
  }

  /** Makes the next `times` calls of an operation (or `*` for any) fail with this error. */
  injectError(operation: string, error: InjectedError): void {
    const queue = this.injected.get(operation) ?? [];
    for (let i = 0; i < (error.times ?? 1); i += 1) queue.push(error);
    this.injected.set(operation, queue);
  }

  /** The recorded requests of one operation. */
  requestsFor(operation: string): RecordedAwsRequest[] {
    return this.requests.filter((request) => request.operation === operation);
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    this.listeningUrl = `http://127.0.0.1:${port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** `http://127.0.0.1:<port>`, once started. */
  get url(): string {
    if (!this.listeningUrl) throw new Error('peer not started');
    return this.listeningUrl;
  }

  /** Endpoint, region and credentials for an AWS SDK v3 client (or any SigV4 signer). */
  clientConfig(credentials: PeerCredentials = this.defaultCredentials): {
    endpoint: string;
    region: string;
    credentials: PeerCredentials;
  } {
    return { endpoint: this.url, region: this.options.region ?? 'us-east-1', credentials };
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const body = await readBody(req, maxBodyBytes);
    if (body === undefined) {
      this.send(res, requestId, new AwsPeerError(413, 'RequestEntityTooLarge', 'Request body too large'));
      return;
    }
    const parsed = this.parseOperation(req, body);
    const record: RecordedAwsRequest = {
      operation: parsed.operation,
      input: parsed.input,
      headers: req.headers,
      accessKeyId: undefined,
      sessionToken: undefined,
      status: 200,
      errorCode: undefined,
      receivedAt: new Date(),
    };
    this.requests.push(record);
    const answer = await this.answer(req, body, parsed, record, requestId);
    if (answer instanceof AwsPeerError) {
      record.status = answer.status;
      record.errorCode = answer.code;
    }
    this.send(res, requestId, answer, parsed.operation);
  }

  private async answer(
    req: IncomingMessage,
    body: Buffer,
    parsed: ParsedOperation,
    record: RecordedAwsRequest,
    requestId: string,
  ): Promise<unknown> {
    if (parsed.error) return parsed.error;
    const registered = this.handlers.get(parsed.operation);
    const signedCall = req.headers.authorization !== undefined || !registered?.unsigned;
    if (signedCall) {
      const verdict = await this.verifier.verify({
        method: req.method ?? 'POST',
        url: req.url ?? '/',
        headers: req.headers,
        body,
      });
      if (!verdict.ok) return this.authError(verdict.reason, verdict.message);
      record.accessKeyId = verdict.accessKeyId;
      record.sessionToken = verdict.sessionToken;
    }
    if (!registered) return this.unknownOperation(parsed.operation);
    const injected = this.injected.get(parsed.operation)?.shift() ?? this.injected.get('*')?.shift();
    if (injected) {
      return new AwsPeerError(injected.status, injected.code, injected.message ?? injected.code);
    }
    try {
      return await registered.handler(parsed.input, {
        accessKeyId: record.accessKeyId,
        sessionToken: record.sessionToken,
        headers: req.headers,
        requestId,
      });
    } catch (error) {
      if (error instanceof AwsPeerError) return error;
      throw error;
    }
  }

  private parseOperation(req: IncomingMessage, body: Buffer): ParsedOperation {
    if (this.options.protocol === 'query') {
      const form = new URLSearchParams(body.toString('utf8'));
      const input: Record<string, unknown> = {};
      for (const [name, value] of form) if (name !== 'Action' && name !== 'Version') input[name] = value;
      const operation = form.get('Action') ?? '';
      if (req.method !== 'POST' || operation === '') {
        return {
          operation,
          input,
          error: new AwsPeerError(400, 'MissingAction', 'Could not find operation to perform'),
        };
      }
      return { operation, input };
    }
    const target = headerValue(req.headers, 'x-amz-target') ?? '';
    const [prefix, operation = ''] = target.split('.', 2);
    if (prefix !== this.options.targetPrefix || operation === '') {
      return {
        operation,
        input: {},
        error: new AwsPeerError(400, 'UnknownOperationException', `Unknown target: ${target}`),
      };
    }
    try {
      const value: unknown = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw new Error('not an object');
      return { operation, input: value as Record<string, unknown> };
    } catch {
      return {
        operation,
        input: {},
        error: new AwsPeerError(400, 'SerializationException', 'Body is not a JSON object'),
      };
    }
  }

  private authError(reason: SigV4FailureReason, message: string): AwsPeerError {
    const query = this.options.protocol === 'query';
    switch (reason) {
      case 'missing_authentication':
        return query
          ? new AwsPeerError(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token')
          : new AwsPeerError(400, 'MissingAuthenticationTokenException', message);
      case 'unknown_access_key':
      case 'invalid_session_token':
        return query
          ? new AwsPeerError(403, 'InvalidClientTokenId', message)
          : new AwsPeerError(400, 'UnrecognizedClientException', message);
      case 'malformed_authorization':
        return new AwsPeerError(400, query ? 'IncompleteSignature' : 'IncompleteSignatureException', message);
      case 'payload_hash_mismatch':
        return new AwsPeerError(400, 'XAmzContentSHA256Mismatch', message);
      default:
        return query
          ? new AwsPeerError(403, 'SignatureDoesNotMatch', message)
          : new AwsPeerError(400, 'InvalidSignatureException', message);
    }
  }

  private unknownOperation(operation: string): AwsPeerError {
    return this.options.protocol === 'query'
      ? new AwsPeerError(400, 'InvalidAction', `The action ${operation} is not valid for this web service.`)
      : new AwsPeerError(400, 'UnknownOperationException', `Unknown operation ${operation}`);
  }

  private send(res: ServerResponse, requestId: string, answer: unknown, operation = ''): void {
    const query = this.options.protocol === 'query';
    let status = 200;
    let body: string;
    const headers: Record<string, string> = { 'x-amzn-RequestId': requestId };
    if (answer instanceof AwsPeerError) {
      status = answer.status;
      if (query) {
        body =
          `<ErrorResponse xmlns="${this.options.xmlNamespace}"><Error><Type>${answer.faultType}</Type>` +
          `<Code>${escapeXml(answer.code)}</Code><Message>${escapeXml(answer.message)}</Message></Error>` +
          `<RequestId>${requestId}</RequestId></ErrorResponse>`;
      } else {
        headers['x-amzn-ErrorType'] = answer.code;
        body = JSON.stringify({ __type: answer.code, message: answer.message });
      }
    } else if (query) {
      const result = answer === undefined ? '' : `<${operation}Result>${toXml(answer)}</${operation}Result>`;
      body =
        `<${operation}Response xmlns="${this.options.xmlNamespace}">${result}` +
        `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`;
    } else {
      body = JSON.stringify(answer ?? {});
    }
    headers['content-type'] = query ? 'text/xml' : `application/x-amz-${this.options.protocol}`;
    res.writeHead(status, headers).end(body);
  }
}

interface ParsedOperation {
  operation: string;
  input: Record<string, unknown>;
  error?: AwsPeerError;
}

/** Renders a value as Query-protocol XML children: objects as elements, arrays as `<member>` lists. */
export function toXml(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => `<member>${toXml(item)}</member>`).join('');
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .filter(([, child]) => child !== undefined)
      .map(([name, child]) => `<${name}>${toXml(child)}</${name}>`)
      .join('');
  }
  return escapeXml(String(value));
}

/** Escapes text for an XML element or attribute. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
