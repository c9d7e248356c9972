import { createWriteStream } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { checkBucketName, checkObjectKey } from '@stratus/aws/local-objects';
import type { ObjectReader } from '@stratus/aws/objects';
import { ServiceError, writeFileAtomically } from '@stratus/core';

/** Copies an object into a local file as a stream (never whole into memory); resolves to its ETag. */
export async function spoolObject(
  reader: ObjectReader,
  bucket: string,
  key: string,
  destination: string,
): Promise<{ size: number; eTag: string }> {
  const opened = await reader.open(bucket, key);
  await pipeline(opened.body, createWriteStream(destination));
  return { size: opened.size, eTag: opened.etag.replaceAll('"', '') };
}

/** Where reports are written: S3, or the LOCAL_S3_ROOT folder standing in for it. */
export interface ReportStore {
  putJson(bucket: string, key: string, value: unknown): Promise<void>;
}

export class S3ReportStore implements ReportStore {
  constructor(private readonly s3: S3Client) {}

  async putJson(bucket: string, key: string, value: unknown): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: JSON.stringify(value, null, 2),
        ContentType: 'application/json',
      }),
    );
  }
}

/** Writes `<root>/<bucket>/<key>`, the layout @stratus/aws' LocalFolderObjectReader reads. */
export class LocalFolderReportStore implements ReportStore {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async putJson(bucket: string, key: string, value: unknown): Promise<void> {
    checkBucketName(bucket);
    checkObjectKey(key);
    const path = join(this.root, bucket, key);
    if (!path.startsWith(this.root + sep))
      throw new ServiceError(400, 'invalid_object_key', `object key ${JSON.stringify(key)} leaves the root`);
    // Written aside and renamed, so a reader never sees half a report.
    await writeFileAtomically(path, JSON.stringify(value, null, 2));
  }
}
