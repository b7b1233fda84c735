import { collectExpiredUploads } from '../audio-uploads/collect-expired-uploads';
import { jwtSecret } from '../auth/secret';
import { Config } from '../config';
import { createAudioStorage } from '../storage/storage';
import { LocalAudioStorage } from '../storage/local-storage';
import { intOption, Parsed, withDatabase } from './usage';

/**
 * `hub gc-audio [--batch N]`: removes the audio uploads that expired without being attached to a
 * message, and their objects (never one a message still names), and the local driver's abandoned
 * staging files (killed uploads); prints how many of each. The server does the same on its own
 * schedule (upload-janitor.ts); this is for a server that is down, or an operator in a hurry.
 */
export async function gcAudio(config: Config, values: Parsed): Promise<void> {
  const batchSize = intOption(values, 'batch', 500, 1, 10_000);
  const storage = createAudioStorage(config, await jwtSecret(config));
  const removed = await withDatabase(config, ({ dataSource }, logger) => collectExpiredUploads({ dataSource, storage, logger }, { batchSize }));
  console.log(`removed ${removed} expired audio upload${removed === 1 ? '' : 's'}`);
  if (storage instanceof LocalAudioStorage) {
    // Only files no live body writes: a server receiving uploads right now keeps its own.
    const staged = await storage.sweepStaging();
    console.log(`removed ${staged} abandoned staging file${staged === 1 ? '' : 's'}`);
  }
}
