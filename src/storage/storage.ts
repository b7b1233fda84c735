import { Config } from '../config';
import { AudioStorage } from './audio-storage';
import { LocalAudioStorage } from './local-storage';
import { S3AudioStorage } from './s3-storage';
import { UrlSigner } from './url-signing';

/** The configured driver. `secret` (the JWT secret) keys the signatures of the local driver's URLs. */
export function createAudioStorage(config: Config, secret: string): AudioStorage {
  switch (config.storageDriver) {
    case 'local':
      return new LocalAudioStorage(config.audioDir, `${config.publicUrl}/audio`, new UrlSigner(secret), config.audioUploads);
    case 's3':
      if (!config.s3) throw new Error('HUB_STORAGE_DRIVER=s3 needs the HUB_S3_* settings');
      return new S3AudioStorage(config.s3);
  }
}
