import { DATA_MODEL } from '../../ormconfig';
import { Config } from '../config';
import { Database, openDatabase } from '../db/database';
import { createLogger, Logger } from '../logger';

/** A wrong invocation: the message and the usage are printed, and the exit code is 2. */
export class UsageError extends Error {}

export type Parsed = Record<string, string | boolean | undefined>;

/** A whole number option in [min, max]; absent → the fallback. */
export function intOption(values: Parsed, name: string, fallback: number, min = 0, max = 10_000_000): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || value < min || value > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

export function requiredOption(values: Parsed, name: string): string {
  const raw = values[name];
  if (typeof raw !== 'string' || raw.trim() === '') throw new UsageError(`--${name} is required`);
  return raw;
}

/** Runs a command against the database (embedded when DATABASE_URL is unset), then closes it. */
export async function withDatabase<T>(config: Config, fn: (db: Database, logger: Logger) => Promise<T>): Promise<T> {
  const logger = createLogger(process.env.HUB_LOG_LEVEL ?? 'warn');
  const db = await openDatabase(DATA_MODEL, config, logger, { poolSize: 4 });
  try {
    return await fn(db, logger);
  } finally {
    await db.close();
  }
}
