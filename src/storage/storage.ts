import { Config } from '../config';
import { LocalAudioStorage } from './local-storage';
import { UrlSigner } from './url-signing';

/**
 * Where audio bytes live. Rows keep only a storage-neutral object key (`audio/2026/11/abc.ogg`),
 * so moving from local disk to object storage is a driver chosen by configuration
 * (`HUB_STORAGE_DRIVER`), not a data migration.
 */
export interface AudioStorage {
  /** A URL a client can fetch the object from; it may be signed and expire. */
  url(key: string): string;
  /** Removes the objects (purged messages); missing objects are not an error. */
  remove(keys: string[]): Promise<void>;
}

/** The configured driver. `secret` (the JWT secret) keys the signatures of local audio URLs. */
export function createAudioStorage(config: Config, secret: string): AudioStorage {
  switch (config.storageDriver) {
    case 'local':
      return new LocalAudioStorage(config.audioDir, `${config.publicUrl}/audio`, new UrlSigner(secret));
  }
}
