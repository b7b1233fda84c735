import path from 'node:path';

/** Everything the server reads from the environment, parsed and checked once at start. */
export interface Config {
  /** Unset: the embedded PostgreSQL under `dataDir` is used. */
  databaseUrl?: string;
  /** Unset outside production: a secret is generated once and kept under `dataDir`. */
  jwtSecret?: string;
  port: number;
  host: string;
  production: boolean;
  dataDir: string;
  maxPageSize: number;
  /** Where the local storage driver keeps audio objects. */
  audioDir: string;
  /** Base URL that `Audio.url` is built on; defaults to this server's own `/audio/`. */
  publicUrl: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

function integer(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
  problems: string[],
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
    return fallback;
  }
  return value;
}

/** Reads and validates the environment; every bad variable is named in one error. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const production = env.NODE_ENV === 'production';
  const port = integer(env, 'PORT', 4000, 0, 65535, problems);
  const host = env.HOST || '127.0.0.1';
  const maxPageSize = integer(env, 'HUB_MAX_PAGE_SIZE', 100, 1, 10000, problems);
  const dataDir = path.resolve(env.HUB_DATA_DIR || '.hub');

  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const jwtSecret = env.HUB_JWT_SECRET || undefined;
  if (production && !jwtSecret) {
    problems.push('HUB_JWT_SECRET is required when NODE_ENV=production (no secret is generated in production)');
  } else if (production && jwtSecret && Buffer.byteLength(jwtSecret) < 32) {
    problems.push('HUB_JWT_SECRET must be at least 32 bytes in production');
  }
  const publicUrl = env.HUB_PUBLIC_URL || `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`;
  if (!/^https?:\/\//.test(publicUrl)) problems.push('HUB_PUBLIC_URL must be an http(s):// URL');

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    databaseUrl,
    jwtSecret,
    port,
    host,
    production,
    dataDir,
    maxPageSize,
    audioDir: path.resolve(env.HUB_AUDIO_DIR || path.join(dataDir, 'audio')),
    publicUrl: publicUrl.replace(/\/+$/, ''),
  };
}
