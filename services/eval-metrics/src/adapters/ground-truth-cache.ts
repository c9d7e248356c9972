import { createHash } from 'node:crypto';
import type { ObjectReader } from '@stratus/aws/local-objects';
import {
  type GroundTruthTable,
  groundTruthFormatOf,
  groundTruthTable,
  parseGroundTruth,
} from '../domain/ground-truth.js';

/** Where ground-truth objects are read from: one bucket of S3, or of a local folder standing for it. */
export interface ObjectSource {
  /** `s3://bucket`, for messages. */
  readonly location: string;
  read(key: string): Promise<Uint8Array>;
}

/** One bucket of an @stratus/aws object reader (S3 GetObject, or LOCAL_S3_ROOT), read whole. */
export function bucketObjects(reader: ObjectReader, bucket: string): ObjectSource {
  return {
    location: `s3://${bucket}`,
    async read(key) {
      const object = await reader.open(bucket, key);
      const chunks: Buffer[] = [];
      for await (const chunk of object.body) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
  };
}

/** What the LATEST pointer says: the version's key and, when given, its checksum. */
export interface GroundTruthPointer {
  key: string;
  /** `sha256:<hex>`, `md5:<hex>`, or bare hex (64 characters: SHA-256, 32: MD5). */
  checksum: string | undefined;
}

export class GroundTruthError extends Error {
  override readonly name = 'GroundTruthError';
}

/**
 * Parses a LATEST pointer: JSON `{"s3_uri": "s3://bucket/key", "checksum": "sha256:…"}` (or `key`
 * instead of `s3_uri`), or a plain key on one line.
 */
export function parseGroundTruthPointer(text: string, bucket: string | undefined): GroundTruthPointer {
  const trimmed = text.trim();
  if (trimmed === '') throw new GroundTruthError('LATEST pointer is empty');
  if (!trimmed.startsWith('{')) {
    if (/\s/.test(trimmed)) throw new GroundTruthError('LATEST pointer must be one key or a JSON object');
    return { key: keyOf(trimmed, bucket), checksum: undefined };
  }
  let value: { s3_uri?: unknown; key?: unknown; checksum?: unknown };
  try {
    value = JSON.parse(trimmed);
  } catch (error) {
    throw new GroundTruthError(`LATEST pointer is not JSON: ${(error as Error).message}`);
  }
  const location = value.s3_uri ?? value.key;
  if (typeof location !== 'string' || location === '')
    throw new GroundTruthError('LATEST pointer needs s3_uri (or key)');
  if (value.checksum !== undefined && typeof value.checksum !== 'string')
    throw new GroundTruthError('LATEST pointer checksum must be a string');
  return { key: keyOf(location, bucket), checksum: value.checksum };
}

function keyOf(location: string, bucket: string | undefined): string {
  if (!location.startsWith('s3://')) return location.replace(/^\/+/, '');
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  if (!match) throw new GroundTruthError(`not an s3:// URI with a key: ${location}`);
  if (bucket !== undefined && match[1] !== bucket)
    throw new GroundTruthError(
      `pointer names bucket ${match[1]}, but ground truth is read from bucket ${bucket}`,
    );
  return match[2]!;
}

/** Checks `body` against a pointer checksum; throws on a mismatch or an unknown checksum form. */
export function verifyChecksum(body: Uint8Array, checksum: string): void {
  const match = /^(?:(sha256|md5):)?([0-9a-fA-F]+)$/.exec(checksum.trim());
  const algorithm =
    match?.[1] ?? (match?.[2]?.length === 64 ? 'sha256' : match?.[2]?.length === 32 ? 'md5' : undefined);
  if (!match || !algorithm)
    throw new GroundTruthError(`checksum ${checksum}: expected sha256:<hex> or md5:<hex>`);
  const actual = createHash(algorithm).update(body).digest('hex');
  if (actual !== match[2]!.toLowerCase())
    throw new GroundTruthError(
      `checksum mismatch: pointer says ${algorithm}:${match[2]}, object is ${algorithm}:${actual}`,
    );
}

export interface GroundTruthStatus {
  state: 'empty' | 'fresh' | 'stale';
  version: string | undefined;
  rows: number;
  checksum: string | undefined;
  loaded_at: string | undefined;
  age_s: number | undefined;
  last_refresh_at: string | undefined;
  /** Why the last refresh failed, while the previous version keeps serving. */
  last_error: string | undefined;
}

export interface GroundTruthCacheOptions {
  objects: ObjectSource;
  latestKey: string;
  /** The bucket s3:// URIs in the pointer must name (undefined for a local folder). */
  bucket: string | undefined;
  ttlMs: number;
  now?: () => number;
}

/**
 * The current ground-truth version, read through its LATEST pointer, checksum-verified and kept for
 * the TTL. When a refresh fails, the last good version keeps serving and `status()` says so (`stale`
 * with `last_error`). Concurrent callers share one refresh.
 */
export class GroundTruthCache {
  private table: GroundTruthTable | undefined;
  private pointer: GroundTruthPointer | undefined;
  private loadedAt: number | undefined;
  private checkedAt: number | undefined;
  private lastRefreshAt: number | undefined;
  private lastError: string | undefined;
  private refreshing: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: GroundTruthCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The table, refreshed first when the TTL has passed; undefined when no version ever loaded. */
  async current(): Promise<GroundTruthTable | undefined> {
    if (this.checkedAt === undefined || this.now() - this.checkedAt >= this.options.ttlMs)
      await this.refresh();
    return this.table;
  }

  /** The table as it is, without refreshing. */
  peek(): GroundTruthTable | undefined {
    return this.table;
  }

  refresh(): Promise<void> {
    this.refreshing ??= this.load().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  status(): GroundTruthStatus {
    const now = this.now();
    return {
      state: this.table === undefined ? 'empty' : this.lastError ? 'stale' : 'fresh',
      version: this.table?.version,
      rows: this.table?.rows.length ?? 0,
      checksum: this.pointer?.checksum,
      loaded_at: this.loadedAt === undefined ? undefined : new Date(this.loadedAt).toISOString(),
      age_s: this.loadedAt === undefined ? undefined : Math.round((now - this.loadedAt) / 1000),
      last_refresh_at:
        this.lastRefreshAt === undefined ? undefined : new Date(this.lastRefreshAt).toISOString(),
      last_error: this.lastError,
    };
  }

  private async load(): Promise<void> {
    const { objects, latestKey, bucket } = this.options;
    this.lastRefreshAt = this.now();
    try {
      const pointerText = new TextDecoder().decode(await objects.read(latestKey));
      const pointer = parseGroundTruthPointer(pointerText, bucket);
      const unchanged =
        this.table !== undefined &&
        this.pointer?.key === pointer.key &&
        this.pointer.checksum === pointer.checksum;
      if (!unchanged) {
        const body = await objects.read(pointer.key);
        if (pointer.checksum !== undefined) verifyChecksum(body, pointer.checksum);
        const rows = parseGroundTruth(new TextDecoder().decode(body), groundTruthFormatOf(pointer.key));
        this.table = groundTruthTable(pointer.key, rows);
        this.pointer = pointer;
        this.loadedAt = this.now();
      }
      this.lastError = undefined;
    } catch (error) {
      this.lastError = `${objects.location}: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      this.checkedAt = this.now();
    }
  }
}
