import { Readable } from 'node:stream';
import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { ServiceError } from '@stratus/core';
import type { ObjectReaderSettings } from '../settings.js';
import {
  LocalFolderObjectReader,
  type ObjectReader,
  type OpenedObject,
} from './local-folder-object-reader.js';
import { checkBucketName, checkObjectKey } from './object-key.js';

// The local folder reader has its own module, so that it loads without the AWS SDK.
export { LocalFolderObjectReader, type ObjectReader, type OpenedObject };

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

/** The reader the settings select: the local folder when LOCAL_S3_ROOT is set, else S3. */
export function createObjectReader(settings: ObjectReaderSettings, s3: () => S3Client): ObjectReader {
  return settings.LOCAL_S3_ROOT
    ? new LocalFolderObjectReader(settings.LOCAL_S3_ROOT)
    : new S3ObjectReader(s3());
}
