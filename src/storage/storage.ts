import { Config } from '../config';
import { LocalAudioStorage } from './local-storage';

/**
 * Where audio bytes live. Rows keep only a storage-neutral object key (`audio/2026/11/abc.ogg`),
 * so moving from local disk to object storage is a driver chosen by configuration, not a data
 * migration.
 */
export interface AudioStorage {
  /** A URL a client can fetch the object from. */
  url(key: string): string;
  /** Removes the objects (purged messages); missing objects are not an error. */
  remove(keys: string[]): Promise<void>;
}

export function createAudioStorage(config: Config): AudioStorage {
  return new LocalAudioStorage(config.audioDir, `${config.publicUrl}/audio`);
}
