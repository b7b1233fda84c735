import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { S3Settings } from '../config';
import { AudioStorage, StoredObject, UploadRequest, UploadTarget } from './audio-storage';
import { AUDIO_URL_TTL_SECONDS, EXPIRY_STEP_SECONDS } from './url-signing';

/** DeleteObjects takes at most 1,000 keys per request. */
export const S3_DELETE_BATCH = 1000;

/**
 * Objects in an S3-compatible bucket (AWS S3, MinIO, R2…). Clients upload and download directly
 * from the store with presigned URLs: a PUT whose content type and length are signed (S3 refuses
 * other bytes), and a GET. The hub itself only signs, HEADs objects to verify what a client
 * uploaded, and deletes purged objects in batches.
 */
export class S3AudioStorage implements AudioStorage {
  readonly client: S3Client;
  private readonly bucket: string;

  constructor(settings: S3Settings) {
    this.bucket = settings.bucket;
    this.client = new S3Client({
      endpoint: settings.endpoint,
      region: settings.region,
      forcePathStyle: settings.forcePathStyle,
      credentials:
        settings.accessKeyId && settings.secretAccessKey
          ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey }
          : undefined,
      // No checksum of the (absent) body in presigned PUTs: the client sends the bytes, not us.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
    });
  }

  async url(key: string): Promise<string> {
    // Signed as of the start of the current step, so the URLs of one step are identical
    // (cacheable by clients), and still valid for at least the TTL.
    const step = EXPIRY_STEP_SECONDS * 1000;
    const signingDate = new Date(Math.floor(Date.now() / step) * step);
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      expiresIn: AUDIO_URL_TTL_SECONDS + EXPIRY_STEP_SECONDS,
      signingDate,
    });
  }

  async uploadTarget(request: UploadRequest): Promise<UploadTarget> {
    const now = Date.now();
    const expiresIn = Math.max(1, Math.floor((request.expiresAt.getTime() - now) / 1000));
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: request.key,
      ContentType: request.contentType,
      ContentLength: request.byteSize,
    });
    const url = await getSignedUrl(this.client, command, {
      expiresIn,
      signingDate: new Date(now),
      signableHeaders: new Set(['content-type', 'content-length']),
    });
    return {
      url,
      method: 'PUT',
      headers: [
        { name: 'Content-Type', value: request.contentType },
        { name: 'Content-Length', value: String(request.byteSize) },
      ],
    };
  }

  async head(key: string): Promise<StoredObject | null> {
    try {
      const object = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { byteSize: Number(object.ContentLength ?? -1), contentType: object.ContentType ?? null };
    } catch (error) {
      if (error instanceof S3ServiceException && (error.name === 'NotFound' || error.$metadata.httpStatusCode === 404)) return null;
      throw error;
    }
  }

  async remove(keys: string[]): Promise<void> {
    const failed: string[] = [];
    for (let i = 0; i < keys.length; i += S3_DELETE_BATCH) {
      const batch = keys.slice(i, i + S3_DELETE_BATCH);
      const result = await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
      );
      for (const error of result.Errors ?? []) if (error.Code !== 'NoSuchKey') failed.push(`${error.Key}: ${error.Code}`);
    }
    if (failed.length > 0) throw new Error(`could not delete ${failed.length} object(s): ${failed.slice(0, 5).join(', ')}`);
  }
}
