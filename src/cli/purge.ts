import { collectExpiredUploads } from '../audio-uploads/collect-expired-uploads';
import { jwtSecret } from '../auth/secret';
import { parseDuration } from '../auth/tokens';
import { Config } from '../config';
import { purgeDeletedSessions } from '../sessions/purge-deleted-sessions';
import { createAudioStorage } from '../storage/storage';
import { createProgress } from './progress';
import { intOption, Parsed, requiredOption, UsageError, withDatabase } from './usage';

/**
 * `hub purge --older-than 30d [--batch N]`: hard-deletes sessions soft-deleted longer ago than
 * the given age, with full cascade (the same path as `purgeSession`), in batches; then removes the
 * expired, never attached audio uploads (`hub gc-audio`); prints how many of each.
 */
export async function purge(config: Config, values: Parsed): Promise<void> {
  const age = parseDuration(requiredOption(values, 'older-than'));
  if (!age) throw new UsageError('--older-than must be a duration such as 30d, 12h or 90m');
  const batchSize = intOption(values, 'batch', 500, 1, 10_000);
  const storage = createAudioStorage(config, await jwtSecret(config));
  const deletedBefore = new Date(Date.now() - age * 1000);
  const progress = createProgress({ quiet: values.quiet === true });
  const [purged, uploads] = await withDatabase(config, async ({ dataSource }, logger) => {
    progress.step('purge: sessions');
    const sessions = await purgeDeletedSessions(
      { dataSource, storage, logger },
      { deletedBefore, batchSize, onBatch: (n, total) => progress.tick(`purge: batch of ${n}, ${total} so far`) },
    );
    progress.done(`${sessions} purged`);
    progress.step('purge: expired audio uploads');
    const expired = await collectExpiredUploads({ dataSource, storage, logger }, { batchSize });
    progress.done(`${expired} removed`);
    return [sessions, expired];
  });
  progress.summary(`purged ${purged} sessions and ${uploads} uploads`);
  console.log(`purged ${purged} session${purged === 1 ? '' : 's'} deleted before ${deletedBefore.toISOString()}`);
  console.log(`removed ${uploads} expired audio upload${uploads === 1 ? '' : 's'}`);
}
