import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { ServiceError } from '@stratus/core';
import type { ObjectReaderSettings } from '../settings.js';
import { checkBucketName, checkObjectKey } from './object-key.js';

/** An object opened for reading. */
export interface OpenedObject {
  body: Readable;
  /** Bytes. */
  size: number;
  /** S3's ETag (quoted, as S3 sends it); for a local file, a weak tag from size and modification time. */
  etag: string;
  lastModified: Date | undefined;
}

/** Opens objects as streams. Unknown objects are HTTP 404 `object_not_found`. */
export interface ObjectReader {
  open(bucket: string, key: string): Promise<OpenedObject>;
}

/** Reads with S3 GetObject; the client's credentials and endpoint decide where from. */
export class S3ObjectReader implements ObjectReader {
  constructor(private readonly s3: S3Client) {}

  async open(bucket: string, key: string): Promise<OpenedObject> {
    checkBucketName(bucket);
    checkObjectKey(key);
    try {
      const output = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!(output.Body instanceof Readable)) throw new Error('GetObject returned no Node.js stream');
      return {
        body: output.Body,
        size: output.ContentLength ?? 0,
        etag: output.ETag ?? '',
        lastModified: output.LastModified,
      };
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchBucket') {
        throw new ServiceError(404, 'object_not_found', `s3://${bucket}/${key} does not exist`, {
          cause: error,
        });
      }
      throw error;
    }
  }
}

/** Reads `<root>/<bucket>/<key>` from a local folder standing in for S3 (LOCAL_S3_ROOT). */
export class LocalFolderObjectReader implements ObjectReader {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async open(bucket: string, key: string): Promise<OpenedObject> {
    checkBucketName(bucket);
    checkObjectKey(key);
    const path = join(this.root, bucket, key);
    // The key checks already keep the path inside the root; this guards against any we missed.
    if (!path.startsWith(this.root + sep)) {
      throw new ServiceError(400, 'invalid_object_key', `object key ${JSON.stringify(key)} leaves the root`);
    }
    const stats = await stat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      throw error;
    });
    if (!stats?.isFile()) {
      throw new ServiceError(404, 'object_not_found', `${bucket}/${key} does not exist under ${this.root}`);
    }
    return {
      body: createReadStream(path),
      size: stats.size,
      etag: `W/"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`,
      lastModified: stats.mtime,
    };
  }
}

/** The reader the settings select: the local folder when LOCAL_S3_ROOT is set, else S3. */
export function createObjectReader(settings: ObjectReaderSettings, s3: () => S3Client): ObjectReader {
  return settings.LOCAL_S3_ROOT
    ? new LocalFolderObjectReader(settings.LOCAL_S3_ROOT)
    : new S3ObjectReader(s3());
}
