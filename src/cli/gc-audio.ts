import { collectExpiredUploads } from '../audio-uploads/collect-expired-uploads';
import { jwtSecret } from '../auth/secret';
import { Config } from '../config';
import { createAudioStorage } from '../storage/storage';
import { intOption, Parsed, withDatabase } from './usage';

/**
 * `hub gc-audio [--batch N]`: removes the audio uploads that expired without being attached to a
 * message, and their objects (never one a message still names); prints how many.
 */
export async function gcAudio(config: Config, values: Parsed): Promise<void> {
  const batchSize = intOption(values, 'batch', 500, 1, 10_000);
  const storage = createAudioStorage(config, await jwtSecret(config));
  const removed = await withDatabase(config, ({ dataSource }) => collectExpiredUploads({ dataSource, storage }, { batchSize }));
  console.log(`removed ${removed} expired audio upload${removed === 1 ? '' : 's'}`);
}
