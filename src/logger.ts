import pino, { Logger } from 'pino';

export type { Logger };

/** Structured JSON logs; `HUB_LOG_LEVEL` (default `info`, `silent` in tests) sets the level.
 * `pretty` (development on a terminal) renders them for people with pino-pretty. */
export function createLogger(
  level = process.env.HUB_LOG_LEVEL ?? (process.env.JEST_WORKER_ID ? 'silent' : 'info'),
  pretty = false,
): Logger {
  return pino({
    level,
    base: { service: 'hub-session-graph' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' } } } : {}),
  });
}
