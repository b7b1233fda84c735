import pino, { Logger } from 'pino';

export type { Logger };

/** Structured JSON logs; `HUB_LOG_LEVEL` (default `info`, `silent` in tests) sets the level. */
export function createLogger(level = process.env.HUB_LOG_LEVEL ?? (process.env.JEST_WORKER_ID ? 'silent' : 'info')): Logger {
  return pino({ level, base: { service: 'hub-session-graph' } });
}
