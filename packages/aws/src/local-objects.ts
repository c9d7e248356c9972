/**
 * @stratus/aws/local-objects: the object reader for a local folder standing in for S3 (LOCAL_S3_ROOT),
 * without the AWS SDK. `@stratus/aws/objects` has it too, with the S3 reader.
 */

export {
  LocalFolderObjectReader,
  type ObjectReader,
  type OpenedObject,
} from './objects/local-folder-object-reader.js';
export { checkBucketName, checkObjectKey } from './objects/object-key.js';
