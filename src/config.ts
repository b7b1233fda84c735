import os from 'node:os';
import path from 'node:path';
import { DEFAULT_MAX_TOKEN_TTL_SECONDS, parseDuration } from './auth/tokens';

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
  /** Where audio objects live (`HUB_STORAGE_DRIVER`): `local` (files under `audioDir`) or `s3`. */
  storageDriver: StorageDriver;
  /** The object-storage driver's settings; set exactly when `storageDriver` is `s3`. */
  s3?: S3Settings;
  /** The largest audio upload accepted, in bytes (`HUB_AUDIO_MAX_BYTES`, default 25 MiB). */
  audioMaxBytes: number;
  /** Accepted upload content types, lower case: exact `audio/<subtype>` or `audio/*` (`HUB_AUDIO_CONTENT_TYPES`). */
  audioContentTypes: string[];
  /** Largest query cost accepted (fields, multiplied by page sizes). */
  maxQueryCost: number;
  maxQueryDepth: number;
  /** Server statements running longer are cancelled by PostgreSQL. */
  statementTimeoutMs: number;
  /** Named prepared statements per connection (`HUB_PREPARED_STATEMENTS`, default true). */
  preparedStatements: boolean;
  /** Browser origins allowed by CORS; empty: same-origin only. `*` allows any. */
  corsOrigins: string[];
  /** Introspection: on in development, off in production unless HUB_INTROSPECTION=true. */
  introspection: boolean;
  /** Live updates (subscriptions): limits and batching, see src/live/. */
  live: LiveConfig;
  /** Largest document accepted, in lexical tokens (parsing stops there with a syntax error). */
  maxQueryTokens: number;
  /** Documents not yet parsed and validated that one viewer may send per minute. */
  maxNewDocumentsPerMinute: number;
  /** `off`: documents as text; `allow`: text or `documentId`; `require`: `documentId` only. */
  trustedDocuments: TrustedDocumentsMode;
  /** The persisted-documents manifest (`{"sha256:<hex>": "<document>"}`); needed by allow/require. */
  trustedDocumentsFile?: string;
  /** The furthest ahead a bearer token's `exp` may be, in seconds. */
  maxTokenTtlSeconds: number;
  /** Scale-out (docs/SCALING.md): worker processes, read replicas, who may read /metrics. */
  scale: ScaleConfig;
}

export interface LiveConfig {
  /** Open WebSocket and SSE connections one process accepts (HUB_LIVE_MAX_CONNECTIONS). */
  maxConnections: number;
  /** Subscriptions one WebSocket connection may hold (HUB_LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION). */
  maxSubscriptionsPerConnection: number;
  /** Subscriptions one viewer may hold on one process (HUB_LIVE_MAX_SUBSCRIPTIONS_PER_VIEWER). */
  maxSubscriptionsPerViewer: number;
  /** Time a WebSocket client has to send connection_init (HUB_LIVE_CONNECTION_INIT_TIMEOUT_MS). */
  connectionInitTimeoutMs: number;
  /** Outbound bytes a connection may owe before it is closed as a slow consumer (HUB_LIVE_MAX_BUFFER_BYTES). */
  maxBufferBytes: number;
  /** Events arriving within this window are resolved together (HUB_LIVE_BATCH_MS). */
  batchMs: number;
  /** Longest wait between LISTEN reconnection attempts (HUB_LIVE_RECONNECT_MAX_MS). */
  reconnectMaxMs: number;
}

export const TRUSTED_DOCUMENTS_MODES = ['off', 'allow', 'require'] as const;
export type TrustedDocumentsMode = (typeof TRUSTED_DOCUMENTS_MODES)[number];
export interface ScaleConfig {
  /** Worker processes on one port (`HUB_WORKERS`, `auto` = CPU count); 1 = no cluster. */
  workers: number;
  /** Read replicas (`HUB_READ_REPLICA_URLS`, comma-separated); empty = every read on the primary. */
  readReplicaUrls: string[];
  /** How long a read waits for its replica to replay the viewer's last write before using the primary. */
  replicaWaitMs: number;
  /** A replica further behind than this is out of rotation until it catches up. */
  replicaMaxLagMs: number;
  /** Bearer token /metrics requires when set (always, in any mode). */
  metricsToken?: string;
  /** When set, /metrics is served only on this port (same host), not on the API's. */
  metricsPort?: number;
}

export const STORAGE_DRIVERS = ['local', 's3'] as const;
export type StorageDriver = (typeof STORAGE_DRIVERS)[number];

/** `HUB_S3_*`: any S3-compatible object store (AWS S3, MinIO, R2, s3rver in the tests). */
export interface S3Settings {
  /** Unset: AWS's own endpoint for the region. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Both unset: the AWS SDK's default credential chain (environment, profile, instance role). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** `bucket` in the path (`https://host/bucket/key`) instead of the host name: MinIO, s3rver. */
  forcePathStyle: boolean;
}

/** 25 MiB: one long voice memo in a compressed format, far above a typical turn. */
export const DEFAULT_AUDIO_MAX_BYTES = 26_214_400;
/** The byte size column is a 32-bit integer, as is GraphQL's Int. */
const AUDIO_MAX_BYTES_LIMIT = 2_147_483_647;
const CONTENT_TYPE_ENTRY = /^audio\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]*)$/;

function s3Settings(env: NodeJS.ProcessEnv, problems: string[]): S3Settings {
  const endpoint = env.HUB_S3_ENDPOINT || undefined;
  if (endpoint && !/^https?:\/\/[^/]+\/?$/.test(endpoint)) problems.push('HUB_S3_ENDPOINT must be an http(s):// origin such as https://s3.example.com');
  const bucket = env.HUB_S3_BUCKET ?? '';
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) problems.push('HUB_S3_BUCKET is required with HUB_STORAGE_DRIVER=s3 (a bucket name: 3-63 of a-z 0-9 . -)');
  const accessKeyId = env.HUB_S3_ACCESS_KEY_ID || undefined;
  const secretAccessKey = env.HUB_S3_SECRET_ACCESS_KEY || undefined;
  if (!accessKeyId !== !secretAccessKey) problems.push('HUB_S3_ACCESS_KEY_ID and HUB_S3_SECRET_ACCESS_KEY are set together (or both left unset for the default credential chain)');
  const forcePathStyle = env.HUB_S3_FORCE_PATH_STYLE ?? 'false';
  if (!['true', 'false'].includes(forcePathStyle)) problems.push('HUB_S3_FORCE_PATH_STYLE must be true or false');
  return {
    endpoint: endpoint?.replace(/\/+$/, ''),
    region: env.HUB_S3_REGION || 'us-east-1',
    bucket,
    accessKeyId,
    secretAccessKey,
    forcePathStyle: forcePathStyle === 'true',
  };
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
  const storageDriver = (env.HUB_STORAGE_DRIVER || 'local') as StorageDriver;
  if (!STORAGE_DRIVERS.includes(storageDriver)) {
    problems.push(`HUB_STORAGE_DRIVER must be one of ${STORAGE_DRIVERS.join(', ')} (got "${env.HUB_STORAGE_DRIVER}")`);
  }
  const s3 = storageDriver === 's3' ? s3Settings(env, problems) : undefined;
  const audioMaxBytes = integer(env, 'HUB_AUDIO_MAX_BYTES', DEFAULT_AUDIO_MAX_BYTES, 1, AUDIO_MAX_BYTES_LIMIT, problems);
  const audioContentTypes = (env.HUB_AUDIO_CONTENT_TYPES || 'audio/*').split(',').map((t) => t.trim().toLowerCase()).filter(Boolean);
  for (const type of audioContentTypes) {
    if (!CONTENT_TYPE_ENTRY.test(type)) problems.push(`HUB_AUDIO_CONTENT_TYPES: "${type}" is not audio/<subtype> or audio/*`);
  }

  const maxQueryCost = integer(env, 'HUB_MAX_QUERY_COST', 50_000, 100, 10_000_000, problems);
  const maxQueryDepth = integer(env, 'HUB_MAX_QUERY_DEPTH', 12, 2, 100, problems);
  const statementTimeoutMs = integer(env, 'HUB_STATEMENT_TIMEOUT_MS', 10_000, 100, 3_600_000, problems);
  const corsOrigins = (env.HUB_CORS_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean);
  for (const origin of corsOrigins) {
    if (origin !== '*' && !/^https?:\/\/[^/]+$/.test(origin)) problems.push(`HUB_CORS_ORIGINS: "${origin}" is not an origin like https://dash.example.com`);
  }
  const preparedRaw = env.HUB_PREPARED_STATEMENTS;
  if (preparedRaw !== undefined && !['true', 'false'].includes(preparedRaw)) problems.push('HUB_PREPARED_STATEMENTS must be true or false');
  const preparedStatements = preparedRaw !== 'false';
  const introspectionRaw = env.HUB_INTROSPECTION;
  if (introspectionRaw !== undefined && !['true', 'false'].includes(introspectionRaw)) {
    problems.push('HUB_INTROSPECTION must be true or false');
  }
  const introspection = introspectionRaw === undefined ? !production : introspectionRaw === 'true';
  const maxQueryTokens = integer(env, 'HUB_MAX_QUERY_TOKENS', 3000, 100, 100_000, problems);
  const maxNewDocumentsPerMinute = integer(env, 'HUB_MAX_NEW_DOCUMENTS_PER_MINUTE', 120, 1, 1_000_000, problems);
  const trustedDocuments = (env.HUB_TRUSTED_DOCUMENTS || 'off') as TrustedDocumentsMode;
  if (!TRUSTED_DOCUMENTS_MODES.includes(trustedDocuments)) {
    problems.push(`HUB_TRUSTED_DOCUMENTS must be one of ${TRUSTED_DOCUMENTS_MODES.join(', ')} (got "${env.HUB_TRUSTED_DOCUMENTS}")`);
  }
  const trustedDocumentsFile = env.HUB_TRUSTED_DOCUMENTS_FILE ? path.resolve(env.HUB_TRUSTED_DOCUMENTS_FILE) : undefined;
  if (trustedDocuments !== 'off' && !trustedDocumentsFile) {
    problems.push(`HUB_TRUSTED_DOCUMENTS=${trustedDocuments} needs HUB_TRUSTED_DOCUMENTS_FILE (the persisted-documents manifest written by codegen)`);
  }
  const maxTokenTtlSeconds = env.HUB_MAX_TOKEN_TTL ? parseDuration(env.HUB_MAX_TOKEN_TTL) : DEFAULT_MAX_TOKEN_TTL_SECONDS;
  if (maxTokenTtlSeconds === undefined) problems.push(`HUB_MAX_TOKEN_TTL must be a duration such as 30m, 12h or 7d (got "${env.HUB_MAX_TOKEN_TTL}")`);

  const live: LiveConfig = {
    maxConnections: integer(env, 'HUB_LIVE_MAX_CONNECTIONS', 10_000, 1, 1_000_000, problems),
    maxSubscriptionsPerConnection: integer(env, 'HUB_LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION', 50, 1, 10_000, problems),
    maxSubscriptionsPerViewer: integer(env, 'HUB_LIVE_MAX_SUBSCRIPTIONS_PER_VIEWER', 500, 1, 1_000_000, problems),
    connectionInitTimeoutMs: integer(env, 'HUB_LIVE_CONNECTION_INIT_TIMEOUT_MS', 3000, 100, 600_000, problems),
    maxBufferBytes: integer(env, 'HUB_LIVE_MAX_BUFFER_BYTES', 4 * 1024 * 1024, 1024, 1024 * 1024 * 1024, problems),
    batchMs: integer(env, 'HUB_LIVE_BATCH_MS', 10, 0, 10_000, problems),
    reconnectMaxMs: integer(env, 'HUB_LIVE_RECONNECT_MAX_MS', 5000, 100, 600_000, problems),
  };
  const scale = scaleConfig(env, production, problems);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    scale,
    databaseUrl,
    jwtSecret,
    port,
    host,
    production,
    dataDir,
    maxPageSize,
    audioDir: path.resolve(env.HUB_AUDIO_DIR || path.join(dataDir, 'audio')),
    publicUrl: publicUrl.replace(/\/+$/, ''),
    storageDriver,
    s3,
    audioMaxBytes,
    audioContentTypes,
    maxQueryCost,
    maxQueryDepth,
    statementTimeoutMs,
    preparedStatements,
    corsOrigins,
    introspection,
    live,
    maxQueryTokens,
    maxNewDocumentsPerMinute,
    trustedDocuments,
    trustedDocumentsFile,
    maxTokenTtlSeconds: maxTokenTtlSeconds ?? DEFAULT_MAX_TOKEN_TTL_SECONDS,
  };
}

/** The scale-out variables (HUB_WORKERS, replicas, /metrics access), checked like the others. */
function scaleConfig(env: NodeJS.ProcessEnv, production: boolean, problems: string[]): ScaleConfig {
  const workersRaw = env.HUB_WORKERS;
  const workers =
    workersRaw === 'auto' ? os.availableParallelism() : integer(env, 'HUB_WORKERS', 1, 1, 256, problems);
  const readReplicaUrls = (env.HUB_READ_REPLICA_URLS ?? '').split(',').map((u) => u.trim()).filter(Boolean);
  for (const url of readReplicaUrls) {
    if (!/^postgres(ql)?:\/\/[^\s]+$/.test(url)) problems.push('HUB_READ_REPLICA_URLS must be comma-separated postgres:// URLs');
  }
  const metricsToken = env.HUB_METRICS_TOKEN || undefined;
  if (metricsToken !== undefined && (Buffer.byteLength(metricsToken) < (production ? 32 : 1) || /\s/.test(metricsToken))) {
    problems.push(`HUB_METRICS_TOKEN must be ${production ? 'at least 32 bytes' : 'non-empty'} with no whitespace`);
  }
  const metricsPortRaw = env.HUB_METRICS_PORT;
  const metricsPort = metricsPortRaw ? integer(env, 'HUB_METRICS_PORT', 0, 0, 65535, problems) : undefined;
  return {
    workers,
    readReplicaUrls,
    replicaWaitMs: integer(env, 'HUB_REPLICA_WAIT_MS', 200, 0, 60_000, problems),
    replicaMaxLagMs: integer(env, 'HUB_REPLICA_MAX_LAG_MS', 2_000, 10, 3_600_000, problems),
    metricsToken,
    metricsPort,
  };
}
