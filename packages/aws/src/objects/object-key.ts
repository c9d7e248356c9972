import { ServiceError } from '@stratus/core';

/**
 * Refuses keys that could escape a folder or confuse a path: a `..` segment, a NUL byte, or an
 * absolute path. S3 itself would accept them; we never need them, and a key from an event must not
 * reach outside LOCAL_S3_ROOT. HTTP 400 `invalid_object_key`.
 */
export function checkObjectKey(key: string): void {
  const problem =
    key === ''
      ? 'is empty'
      : key.includes('\0')
        ? 'contains a NUL byte'
        : key.startsWith('/') || key.startsWith('\\') || /^[A-Za-z]:[\\/]/.test(key)
          ? 'is an absolute path'
          : key.split(/[\\/]/).includes('..')
            ? 'contains a .. segment'
            : undefined;
  if (problem)
    throw new ServiceError(400, 'invalid_object_key', `object key ${JSON.stringify(key)} ${problem}`);
}

/** S3 bucket naming rules (3-63 of a-z 0-9 . -, starting and ending with a letter or digit). */
export function checkBucketName(bucket: string): void {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes('..')) {
    throw new ServiceError(
      400,
      'invalid_bucket_name',
      `bucket name ${JSON.stringify(bucket)} is not a valid S3 bucket name`,
    );
  }
}
