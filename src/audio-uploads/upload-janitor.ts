import { DataSource } from 'typeorm';
import { Config } from '../config';
import { Logger } from '../logger';
import { LocalAudioStorage } from '../storage/local-storage';
import { AudioStorage } from '../storage/audio-storage';
import { collectExpiredUploads } from './collect-expired-uploads';

export interface UploadJanitorDeps {
  dataSource: DataSource;
  storage: AudioStorage;
  config: Config;
  logger: Logger;
}

export interface UploadJanitor {
  /** One collection now (what the timer runs): expired unattached uploads, then abandoned staging files. */
  runOnce(): Promise<{ uploads: number; staging: number }>;
  /** Stops the timers and waits for a run in progress. */
  stop(): Promise<void>;
}

/**
 * The server's own audio garbage collection, so the disk abandoned uploads hold is bounded
 * without an operator running `hub gc-audio`: every HUB_AUDIO_GC_INTERVAL_SECONDS it removes
 * the uploads that expired unattached, with their objects (`collectExpiredUploads`: every
 * worker may run it at once, rows another holds are skipped), and, on the local driver, every
 * two stall windows and once at start, the staging files no live body writes (killed uploads,
 * a crashed process). A failed run is logged and retried at the next tick.
 */
export async function startUploadJanitor(deps: UploadJanitorDeps): Promise<UploadJanitor> {
  const local = deps.storage instanceof LocalAudioStorage ? deps.storage : undefined;
  let running: Promise<unknown> = Promise.resolve();
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const next = running.then(work);
    running = next.catch(() => undefined);
    return next;
  };
  const sweep = () =>
    serially(async () => (local ? local.sweepStaging() : 0)).catch((error) => {
      deps.logger.warn({ err: error }, 'audio staging sweep failed');
      return 0;
    });
  const collect = () =>
    serially(() => collectExpiredUploads({ dataSource: deps.dataSource, storage: deps.storage, logger: deps.logger })).catch((error) => {
      deps.logger.warn({ err: error }, 'audio upload collection failed');
      return 0;
    });
  const timers = [setInterval(collect, deps.config.audioUploads.gcIntervalSeconds * 1000)];
  if (local) timers.push(setInterval(sweep, 2 * deps.config.audioUploads.stallSeconds * 1000));
  for (const timer of timers) timer.unref();
  // At start, before the first request: what a killed process left is gone.
  await sweep();
  return {
    async runOnce() {
      const uploads = await collect();
      return { uploads, staging: await sweep() };
    },
    async stop() {
      for (const timer of timers) clearInterval(timer);
      await running;
    },
  };
}
