/**
 * @stratus/aws/objects: the object reader, S3 GetObject or LOCAL_S3_ROOT. Loads @aws-sdk/client-s3;
 * `@stratus/aws/local-objects` is the local folder reader alone, without it.
 */
export { checkBucketName, checkObjectKey } from './objects/object-key.js';
export {
  createObjectReader,
  LocalFolderObjectReader,
  type ObjectReader,
  type OpenedObject,
  S3ObjectReader,
} from './objects/object-reader.js';
