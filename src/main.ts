import 'reflect-metadata';
import os from 'node:os';
import { parseArgs, ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig } from './config';
import { migrate, migrateRevert } from './cli/migrate';
import { gcAudio } from './cli/gc-audio';
import { purge } from './cli/purge';
import { seedCommand } from './cli/seed';
import { serve } from './cli/serve';
import { intOption, Parsed, UsageError } from './cli/usage';
import { token, userCreate } from './cli/users';

export const USAGE = `Usage: hub <command> [options]

Commands:
  serve [--no-migrate] [--workers N|auto]   serve the API (what npm start runs); N processes on one port
  migrate [--quiet]                         run pending migrations
  migrate:revert                            revert the last migration
  seed [--users N] [--sessions N] [--messages N] [--skills N] [--seed S] [--quiet]
                                            insert a deterministic data set, set-based, then ANALYZE it
  user:create --email E --name N [--role admin|member]
                                            create a user and print its id
  token --email E [--ttl 1h]                print a bearer token for a user
  purge --older-than 30d [--batch N] [--quiet]
                                            hard-delete sessions soft-deleted before then,
                                            then remove expired audio uploads (as gc-audio)
  gc-audio [--batch N]                      remove audio uploads that expired unattached,
                                            and their objects

seed, purge and migrate show progress on a terminal (stderr); --quiet or no TTY: only the result.

Environment: DATABASE_URL (unset: embedded PostgreSQL under HUB_DATA_DIR, default .hub),
HUB_JWT_SECRET, PORT, HOST, NODE_ENV, HUB_DATA_DIR, HUB_MAX_PAGE_SIZE, HUB_STORAGE_DRIVER,
HUB_AUDIO_DIR, HUB_PUBLIC_URL, HUB_MAX_QUERY_COST, HUB_MAX_QUERY_DEPTH, HUB_STATEMENT_TIMEOUT_MS, HUB_PREPARED_STATEMENTS,
HUB_DB_POOL_MIN, HUB_CORS_ORIGINS, HUB_INTROSPECTION, HUB_LOG_LEVEL, HUB_AUDIO_MAX_BYTES, HUB_AUDIO_CONTENT_TYPES,
HUB_S3_ENDPOINT, HUB_S3_REGION, HUB_S3_BUCKET, HUB_S3_ACCESS_KEY_ID, HUB_S3_SECRET_ACCESS_KEY,
HUB_S3_FORCE_PATH_STYLE, HUB_WORKERS, HUB_READ_REPLICA_URLS, HUB_REPLICA_WAIT_MS, HUB_REPLICA_MAX_LAG_MS,
HUB_METRICS_TOKEN, HUB_METRICS_PORT (see README.md).`;

type Options = ParseArgsConfig['options'];

/** `--workers N|auto`: worker processes (overrides HUB_WORKERS). */
function workersOption(raw: Parsed[string]): number | undefined {
  if (raw === undefined) return undefined;
  if (raw === 'auto') return os.availableParallelism();
  return intOption({ workers: raw }, 'workers', 1, 1, 256);
}

const COMMANDS: Record<string, { options: Options; run: (values: Parsed) => Promise<void> }> = {
  serve: {
    options: { 'no-migrate': { type: 'boolean' }, workers: { type: 'string' } },
    run: (v) => serve(loadConfig(), { migrate: !v['no-migrate'], workers: workersOption(v.workers) }),
  },
  migrate: { options: { quiet: { type: 'boolean' } }, run: (v) => migrate(loadConfig(), v) },
  'migrate:revert': { options: {}, run: () => migrateRevert(loadConfig()) },
  seed: {
    options: {
      users: { type: 'string' },
      sessions: { type: 'string' },
      messages: { type: 'string' },
      skills: { type: 'string' },
      seed: { type: 'string' },
      quiet: { type: 'boolean' },
    },
    run: (v) => seedCommand(loadConfig(), v),
  },
  'user:create': {
    options: { email: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' } },
    run: (v) => userCreate(loadConfig(), v),
  },
  token: { options: { email: { type: 'string' }, ttl: { type: 'string' } }, run: (v) => token(loadConfig(), v) },
  purge: { options: { 'older-than': { type: 'string' }, batch: { type: 'string' }, quiet: { type: 'boolean' } }, run: (v) => purge(loadConfig(), v) },
  'gc-audio': { options: { batch: { type: 'string' } }, run: (v) => gcAudio(loadConfig(), v) },
};

/** Entry point of the `hub` CLI. Every failure exits non-zero with a one-paragraph message. */
export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  try {
    if (!name || name === '--help' || name === '-h' || name === 'help') {
      console.log(USAGE);
      if (!name) process.exitCode = 2;
      return;
    }
    const command = COMMANDS[name];
    if (!command) throw new UsageError(`unknown command "${name}"`);
    let values: Parsed;
    try {
      values = parseArgs({ args: rest, options: command.options, strict: true, allowPositionals: false }).values as Parsed;
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    await command.run(values);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`hub: ${error.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else if (error instanceof ConfigError) {
      console.error(`hub: ${error.message}`);
      process.exitCode = 2;
    } else {
      console.error(`hub: ${(error as Error).message ?? error}`);
      process.exitCode = 1;
    }
  }
}
