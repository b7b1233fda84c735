import { Logger } from '../logger';

/**
 * How `hub serve` stops, as one process or as a cluster's primary: on SIGTERM or SIGINT (or the
 * returned `stop`), once, it logs what it is doing, runs `drain` (finish in-flight work, close the
 * pools, stop the embedded database) and exits 0, or 1 when draining failed. `stopping()` tells
 * other handlers (a worker that exits during a drain is not restarted) that it has begun.
 */
export function stopOnSignals(logger: Logger, announce: string, drain: () => Promise<void>) {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, announce);
    try {
      await drain();
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  return { stop, stopping: () => stopping };
}
