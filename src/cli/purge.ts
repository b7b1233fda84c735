import { jwtSecret } from '../auth/secret';
import { parseDuration } from '../auth/tokens';
import { Config } from '../config';
import { purgeDeletedSessions } from '../sessions/purge-deleted-sessions';
import { createAudioStorage } from '../storage/storage';
import { intOption, Parsed, requiredOption, UsageError, withDatabase } from './usage';

/**
 * `hub purge --older-than 30d [--batch N]`: hard-deletes sessions soft-deleted longer ago than
 * the given age, with full cascade (the same path as `purgeSession`), in batches; prints how many.
 */
export async function purge(config: Config, values: Parsed): Promise<void> {
  const age = parseDuration(requiredOption(values, 'older-than'));
  if (!age) throw new UsageError('--older-than must be a duration such as 30d, 12h or 90m');
  const batchSize = intOption(values, 'batch', 500, 1, 10_000);
  const storage = createAudioStorage(config, await jwtSecret(config));
  const deletedBefore = new Date(Date.now() - age * 1000);
  const purged = await withDatabase(config, ({ dataSource }) => purgeDeletedSessions({ dataSource, storage }, { deletedBefore, batchSize }));
  console.log(`purged ${purged} session${purged === 1 ? '' : 's'} deleted before ${deletedBefore.toISOString()}`);
}
