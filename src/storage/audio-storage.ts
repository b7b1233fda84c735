/** What the store says about an object (never what a client claimed). */
export interface StoredObject {
  byteSize: number;
  /** `null` when the store keeps none (objects the local driver got before it kept types). */
  contentType: string | null;
}

export interface HttpHeader {
  name: string;
  value: string;
}

/** One upload the server has decided to accept: this key, this type, exactly this size, until then. */
export interface UploadRequest {
  key: string;
  contentType: string;
  byteSize: number;
  expiresAt: Date;
}

/** How a client sends the bytes: `method` to `url` with every one of `headers` (they are signed). */
export interface UploadTarget {
  url: string;
  method: 'PUT';
  headers: HttpHeader[];
}

/**
 * Where audio bytes live. Rows keep only a storage-neutral object key
 * (`audio/<session>/<random>.ogg`), so moving from local disk to object storage is a driver chosen
 * by configuration (`HUB_STORAGE_DRIVER`), not a data migration. Drivers know keys and bytes,
 * never who may use them: ownership lives in the upload rows (src/audio-uploads).
 */
export interface AudioStorage {
  /** A URL a client can fetch the object from; signed and expiring. */
  url(key: string): Promise<string>;
  /** A signed, expiring request that stores exactly the described object under the key. */
  uploadTarget(request: UploadRequest): Promise<UploadTarget>;
  /** The stored object's size and type, or `null` when there is none. */
  head(key: string): Promise<StoredObject | null>;
  /** Removes the objects; missing objects are not an error. */
  remove(keys: string[]): Promise<void>;
}
