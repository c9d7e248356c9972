import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** A Firestore `Value` as proto-loader decodes it: one of the value fields is set. */
export type FirestoreValue = Record<string, unknown>;
type Fields = Record<string, FirestoreValue>;
interface Timestamp {
  seconds: number;
  nanos: number;
}
interface StoredDocument {
  name: string;
  fields: Fields;
  createTime: Timestamp;
  updateTime: Timestamp;
}

const require = createRequire(import.meta.url);
/** The .proto files the @google-cloud/firestore package ships (build/protos). */
const protosDir = join(dirname(require.resolve('@google-cloud/firestore/package.json')), 'build', 'protos');

/**
 * A loopback Firestore (google.firestore.v1.Firestore) gRPC server built from the .proto files the client
 * package ships, for the real @google-cloud/firestore client reached with FIRESTORE_EMULATOR_HOST. It keeps
 * documents in memory and implements what the client's document API uses: Commit (update with mask,
 * preconditions, server-timestamp transforms, delete), BatchGetDocuments (with lazily begun
 * transactions), BeginTransaction, Rollback and RunQuery (one collection, field filters EQUAL/IN/
 * IS_NULL combined with AND, order by name, limit). Every call is recorded by method name.
 */
export class FirestoreServer {
  readonly calls: string[] = [];
  private readonly documents = new Map<string, StoredDocument>();
  private readonly server = new grpc.Server();
  private port = 0;

  async start(): Promise<this> {
    const definition = await protoLoader.load('google/firestore/v1/firestore.proto', {
      includeDirs: [protosDir],
      longs: Number,
      enums: String,
      defaults: false,
      oneofs: true,
    });
    const proto = grpc.loadPackageDefinition(definition) as unknown as {
      google: { firestore: { v1: { Firestore: { service: grpc.ServiceDefinition } } } };
    };
    const record =
      <T extends (...args: never[]) => void>(method: string, handler: T) =>
      (...args: Parameters<T>) => {
        this.calls.push(method);
        handler(...args);
      };
    this.server.addService(proto.google.firestore.v1.Firestore.service, {
      Commit: record(
        'Commit',
        (call: grpc.ServerUnaryCall<CommitRequest, unknown>, done: grpc.sendUnaryData<unknown>) =>
          this.answer(done, () => this.commit(call.request)),
      ),
      BatchGetDocuments: record(
        'BatchGetDocuments',
        (call: grpc.ServerWritableStream<BatchGetRequest, unknown>) => this.batchGet(call),
      ),
      BeginTransaction: record('BeginTransaction', (_call: unknown, done: grpc.sendUnaryData<unknown>) =>
        done(null, { transaction: randomBytes(16) }),
      ),
      Rollback: record('Rollback', (_call: unknown, done: grpc.sendUnaryData<unknown>) => done(null, {})),
      RunQuery: record('RunQuery', (call: grpc.ServerWritableStream<RunQueryRequest, unknown>) =>
        this.runQuery(call),
      ),
    });
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) =>
        error ? reject(error) : resolve(port),
      ),
    );
    return this;
  }

  /** `127.0.0.1:<port>`, the value for FIRESTORE_EMULATOR_HOST. */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }

  /** Stored fields of a document by its full name, or undefined. */
  fields(name: string): Fields | undefined {
    return this.documents.get(name)?.fields;
  }

  callsOf(method: string): number {
    return this.calls.filter((call) => call === method).length;
  }

  private answer(done: grpc.sendUnaryData<unknown>, work: () => unknown): void {
    try {
      done(null, work());
    } catch (error) {
      if (error instanceof FirestoreRpcError) done({ code: error.code, details: error.message });
      else done({ code: grpc.status.INTERNAL, details: String(error) });
    }
  }

  private commit(request: CommitRequest): unknown {
    const now = timestampNow();
    // Check every precondition first: a commit applies all of its writes or none.
    for (const write of request.writes ?? []) {
      const name = write.update?.name ?? write.delete;
      const exists = write.currentDocument?.exists;
      if (name === undefined || exists === undefined) continue;
      if (exists && !this.documents.has(name))
        throw new FirestoreRpcError(grpc.status.NOT_FOUND, `No document to update: ${name}`);
      if (!exists && this.documents.has(name))
        throw new FirestoreRpcError(grpc.status.ALREADY_EXISTS, `Document already exists: ${name}`);
    }
    const writeResults = (request.writes ?? []).map((write) => {
      if (write.delete !== undefined) {
        this.documents.delete(write.delete);
        return { updateTime: now };
      }
      if (!write.update)
        throw new FirestoreRpcError(
          grpc.status.INVALID_ARGUMENT,
          'only update and delete writes are supported',
        );
      const existing = this.documents.get(write.update.name);
      let fields: Fields;
      if (write.updateMask) {
        fields = structuredClone(existing?.fields ?? {});
        for (const path of write.updateMask.fieldPaths ?? [])
          setPath(fields, path, valueAt(write.update.fields ?? {}, path));
      } else {
        fields = structuredClone(write.update.fields ?? {});
      }
      for (const transform of write.updateTransforms ?? []) {
        if (transform.setToServerValue !== 'REQUEST_TIME')
          throw new FirestoreRpcError(
            grpc.status.UNIMPLEMENTED,
            `transform of ${transform.fieldPath} not supported`,
          );
        setPath(fields, transform.fieldPath, { timestampValue: now, valueType: 'timestampValue' });
      }
      this.documents.set(write.update.name, {
        name: write.update.name,
        fields,
        createTime: existing?.createTime ?? now,
        updateTime: now,
      });
      return {
        updateTime: now,
        transformResults: (write.updateTransforms ?? []).map(() => ({ timestampValue: now })),
      };
    });
    return { writeResults, commitTime: now };
  }

  private batchGet(call: grpc.ServerWritableStream<BatchGetRequest, unknown>): void {
    const readTime = timestampNow();
    const transaction = call.request.newTransaction ? randomBytes(16) : undefined;
    if (transaction) call.write({ transaction, readTime });
    for (const name of call.request.documents ?? []) {
      const stored = this.documents.get(name);
      call.write(stored ? { found: stored, readTime } : { missing: name, readTime });
    }
    call.end();
  }

  private runQuery(call: grpc.ServerWritableStream<RunQueryRequest, unknown>): void {
    const readTime = timestampNow();
    const { parent, structuredQuery: query } = call.request;
    if (call.request.newTransaction) call.write({ transaction: randomBytes(16), readTime });
    const collection = query?.from?.[0]?.collectionId;
    const prefix = `${parent}/${collection}/`;
    let matches = [...this.documents.values()]
      .filter((doc) => doc.name.startsWith(prefix) && !doc.name.slice(prefix.length).includes('/'))
      .filter((doc) => matchesFilter(doc.fields, query?.where))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const after = query?.startAt?.values?.[0]?.referenceValue;
    if (after)
      matches = matches.filter((doc) => (query?.startAt?.before ? doc.name >= after : doc.name > after));
    const limit = query?.limit?.value;
    if (limit !== undefined) matches = matches.slice(0, limit);
    if (matches.length === 0) call.write({ readTime });
    for (const document of matches) call.write({ document, readTime });
    call.end();
  }
}

class FirestoreRpcError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

interface Write {
  update?: { name: string; fields?: Fields };
  delete?: string;
  updateMask?: { fieldPaths?: string[] };
  updateTransforms?: { fieldPath: string; setToServerValue?: string }[];
  currentDocument?: { exists?: boolean };
}
interface CommitRequest {
  database: string;
  writes?: Write[];
  transaction?: Buffer;
}
interface BatchGetRequest {
  documents?: string[];
  newTransaction?: unknown;
}
interface Filter {
  fieldFilter?: { field: { fieldPath: string }; op: string; value: FirestoreValue };
  compositeFilter?: { op: string; filters: Filter[] };
  unaryFilter?: { field: { fieldPath: string }; op: string };
}
interface RunQueryRequest {
  parent: string;
  newTransaction?: unknown;
  structuredQuery?: {
    from?: { collectionId: string }[];
    where?: Filter;
    limit?: { value: number };
    startAt?: { values?: { referenceValue?: string }[]; before?: boolean };
  };
}

function timestampNow(): Timestamp {
  const ms = Date.now();
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
}

/** The field path split on dots, honouring backquoted segments. */
function segmentsOf(path: string): string[] {
  return (path.match(/`(?:[^`\\]|\\.)*`|[^.]+/g) ?? []).map((segment) =>
    segment.startsWith('`') ? segment.slice(1, -1) : segment,
  );
}

function valueAt(fields: Fields, path: string): FirestoreValue | undefined {
  let current: Fields | undefined = fields;
  let value: FirestoreValue | undefined;
  for (const segment of segmentsOf(path)) {
    value = current?.[segment];
    current = (value?.mapValue as { fields?: Fields } | undefined)?.fields;
  }
  return value;
}

/** Sets (or, with undefined, deletes) the value at a field path, creating maps on the way. */
function setPath(fields: Fields, path: string, value: FirestoreValue | undefined): void {
  const segments = segmentsOf(path);
  let current = fields;
  for (const segment of segments.slice(0, -1)) {
    const next = current[segment];
    if (!next?.mapValue) current[segment] = { mapValue: { fields: {} }, valueType: 'mapValue' };
    const map = current[segment]!.mapValue as { fields?: Fields };
    map.fields ??= {};
    current = map.fields;
  }
  const last = segments.at(-1)!;
  if (value === undefined) delete current[last];
  else current[last] = value;
}

function scalar(value: FirestoreValue | undefined): unknown {
  if (!value) return undefined;
  const kind =
    (value.valueType as string | undefined) ?? Object.keys(value).find((key) => key !== 'valueType');
  return kind === 'nullValue' ? null : kind ? value[kind] : undefined;
}

function matchesFilter(fields: Fields, filter: Filter | undefined): boolean {
  if (!filter) return true;
  if (filter.compositeFilter) {
    if (filter.compositeFilter.op !== 'AND')
      throw new FirestoreRpcError(
        grpc.status.UNIMPLEMENTED,
        `${filter.compositeFilter.op} filters not supported`,
      );
    return filter.compositeFilter.filters.every((inner) => matchesFilter(fields, inner));
  }
  if (filter.unaryFilter) {
    const value = valueAt(fields, filter.unaryFilter.field.fieldPath);
    if (filter.unaryFilter.op === 'IS_NULL') return value !== undefined && scalar(value) === null;
    throw new FirestoreRpcError(grpc.status.UNIMPLEMENTED, `${filter.unaryFilter.op} filters not supported`);
  }
  const { field, op, value } = filter.fieldFilter!;
  const actual = scalar(valueAt(fields, field.fieldPath));
  if (op === 'EQUAL') return actual !== undefined && actual === scalar(value);
  if (op === 'IN') {
    const options = ((value.arrayValue as { values?: FirestoreValue[] })?.values ?? []).map(scalar);
    return actual !== undefined && options.includes(actual);
  }
  throw new FirestoreRpcError(grpc.status.UNIMPLEMENTED, `${op} filters not supported`);
}
