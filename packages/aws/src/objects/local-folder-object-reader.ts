import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { ServiceError } from '@stratus/core';
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
