import os from 'node:os';
import path from 'node:path';
import { DEFAULT_MAX_TOKEN_TTL_SECONDS, parseDuration } from './auth/tokens';
import { normalOrigin } from './http/cors';
import { POOL_SIZE } from './db/pool-size';

/** `HUB_STREAM_TIMEOUT`'s default: 10 minutes. */
const DEFAULT_STREAM_TIMEOUT_SECONDS = 600;

/** Everything the server reads from the environment, parsed and checked once at start. */
export interface Config {
  /** Unset: the embedded PostgreSQL under `dataDir` is used. */
  databaseUrl?: string;
  /** `HUB_DIRECT_DATABASE_URL`: a session of its own (LISTEN, migrations and their lock) when
   * `databaseUrl` is a transaction-mode pooler. Unset: `databaseUrl`. */
  directDatabaseUrl?: string;
  /** `HUB_ALLOW_SESSION_SETTINGS_MISMATCH=true`: serve in production although a pooled connection's
   * statement_timeout or TimeZone is not ours (src/db/pooler.ts); otherwise production refuses. */
  allowSessionSettingsMismatch: boolean;
  /** The embedded PostgreSQL's port (`HUB_EMBEDDED_PG_PORT`); unset: 54329 on the first start,
   * then the port it had last time. Taken by another program: a free one (the banner says). */
  embeddedPgPort?: number;
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
  /** Disk and upload bounds per requester and per body (src/audio-uploads/). */
  audioUploads: AudioUploadLimits;
  /** Largest query cost accepted (fields, multiplied by page sizes). */
  maxQueryCost: number;
  maxQueryDepth: number;
  /** Server statements running longer are cancelled by PostgreSQL. */
  statementTimeoutMs: number;
  /** Named prepared statements per connection (`HUB_PREPARED_STATEMENTS`, default true). */
  preparedStatements: boolean;
  /** `HUB_DB_POOL_MIN` (default: the whole pool in production, 0 otherwise): connections the
   * serving pool opens before the process reports ready, and keeps open while idle. */
  poolMin: number;
  /** `HUB_REMEMBER_VIEWERS` (default: on in production): a token's user, once looked up, is
   * re-checked inside the request's first statement instead of by a statement of its own
   * (src/users/viewer-confirmation.ts). Off: every request looks its viewer up first. */
  rememberViewers: boolean;
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
  /** The largest GraphQL answer sent, in bytes of JSON (`HUB_MAX_RESPONSE_BYTES`, default 10 MiB). */
  maxResponseBytes: number;
  /** Heavy requests (an answer that can pass `maxResponseBytes`) one member runs at once on one
   * process; the others wait their turn (`HUB_MAX_HEAVY_REQUESTS_PER_VIEWER`, default 1). */
  maxHeavyRequestsPerViewer: number;
  /** Mesh nodes one session may hold sync rows for (`HUB_MAX_NODES_PER_SESSION`, at most and by default
   * MAX_NODES_PER_SESSION: the `@listSize` the schema states for `Session.nodeSync`, which the cost counts). */
  maxNodesPerSession: number;
  /** `off`: documents as text; `allow`: text or `documentId`; `require`: `documentId` only. */
  trustedDocuments: TrustedDocumentsMode;
  /** The persisted-documents manifest (`{"sha256:<hex>": "<document>"}`); needed by allow/require. */
  trustedDocumentsFile?: string;
  /** The furthest ahead a bearer token's `exp` may be, in seconds. */
  maxTokenTtlSeconds: number;
  /** A message left STREAMING without an append for longer becomes FAILED (`HUB_STREAM_TIMEOUT`, default 10 min), in seconds. */
  streamTimeoutSeconds: number;
  /** Scale-out (docs/SCALING.md): worker processes, read replicas, who may read /metrics. */
  scale: ScaleConfig;
}

export interface AudioUploadLimits {
  /** Declared bytes of unattached, unexpired uploads one viewer may hold (HUB_AUDIO_MAX_PENDING_BYTES). */
  maxPendingBytes: number;
  /** The slowest upload body kept, in bytes per second, measured per stall window (HUB_AUDIO_MIN_UPLOAD_RATE). */
  minBytesPerSecond: number;
  /** The window the rate is measured over; a body bringing less in one is cut (HUB_AUDIO_UPLOAD_STALL_SECONDS). */
  stallSeconds: number;
  /** How often the server removes expired unattached uploads and abandoned staging files (HUB_AUDIO_GC_INTERVAL_SECONDS). */
  gcIntervalSeconds: number;
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
  /** Live connections one client address (HUB_LIVE_MAX_CONNECTIONS_PER_ADDRESS) and one viewer
   * (HUB_LIVE_MAX_CONNECTIONS_PER_VIEWER) may hold on one process. */
  maxConnectionsPerAddress: number;
  maxConnectionsPerViewer: number;
  /** A reader that takes nothing of what it owes for this long is closed (HUB_LIVE_STALL_TIMEOUT_MS). */
  stallTimeoutMs: number;
  /** Replay steps (page reads, executions) running at once (HUB_LIVE_REPLAY_CONCURRENCY), and
   * waiting beyond those (HUB_LIVE_REPLAY_QUEUE): a burst of resumes leaves the pool to requests. */
  replayConcurrency: number;
  replayQueue: number;
  /** Replays one viewer runs at once on one process (HUB_LIVE_MAX_REPLAYS_PER_VIEWER); the rest wait their turn. */
  maxReplaysPerViewer: number;
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

/** Mesh nodes per session: `Session.nodeSync`'s `@listSize(assumedSize: 20)` in schema.graphql. */
export const MAX_NODES_PER_SESSION = 20;

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
  const directDatabaseUrl = env.HUB_DIRECT_DATABASE_URL || undefined;
  if (directDatabaseUrl && !/^postgres(ql)?:\/\//.test(directDatabaseUrl)) {
    problems.push('HUB_DIRECT_DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  if (directDatabaseUrl && !databaseUrl) problems.push('HUB_DIRECT_DATABASE_URL needs DATABASE_URL (the embedded PostgreSQL has no pooler)');
  const allowMismatchRaw = env.HUB_ALLOW_SESSION_SETTINGS_MISMATCH;
  if (allowMismatchRaw !== undefined && !['true', 'false'].includes(allowMismatchRaw)) {
    problems.push('HUB_ALLOW_SESSION_SETTINGS_MISMATCH must be true or false');
  }
  const embeddedPgPort = env.HUB_EMBEDDED_PG_PORT ? integer(env, 'HUB_EMBEDDED_PG_PORT', 0, 1, 65535, problems) : undefined;
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
  const audioUploads: AudioUploadLimits = {
    maxPendingBytes: integer(env, 'HUB_AUDIO_MAX_PENDING_BYTES', 4 * audioMaxBytes, 1, Number.MAX_SAFE_INTEGER, problems),
    minBytesPerSecond: integer(env, 'HUB_AUDIO_MIN_UPLOAD_RATE', 1024, 1, AUDIO_MAX_BYTES_LIMIT, problems),
    stallSeconds: integer(env, 'HUB_AUDIO_UPLOAD_STALL_SECONDS', 10, 1, 3600, problems),
    gcIntervalSeconds: integer(env, 'HUB_AUDIO_GC_INTERVAL_SECONDS', 600, 1, 86_400, problems),
  };

  const maxQueryCost = integer(env, 'HUB_MAX_QUERY_COST', 50_000, 100, 10_000_000, problems);
  const maxQueryDepth = integer(env, 'HUB_MAX_QUERY_DEPTH', 12, 2, 100, problems);
  const statementTimeoutMs = integer(env, 'HUB_STATEMENT_TIMEOUT_MS', 10_000, 100, 3_600_000, problems);
  const corsOrigins = (env.HUB_CORS_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean);
  for (const origin of corsOrigins) {
    if (origin !== '*' && normalOrigin(origin) === undefined) problems.push(`HUB_CORS_ORIGINS: "${origin}" is not an origin like https://dash.example.com`);
  }
  const preparedRaw = env.HUB_PREPARED_STATEMENTS;
  if (preparedRaw !== undefined && !['true', 'false'].includes(preparedRaw)) problems.push('HUB_PREPARED_STATEMENTS must be true or false');
  const preparedStatements = preparedRaw !== 'false';
  const poolMin = integer(env, 'HUB_DB_POOL_MIN', production ? POOL_SIZE : 0, 0, POOL_SIZE, problems);
  const rememberRaw = env.HUB_REMEMBER_VIEWERS;
  if (rememberRaw !== undefined && !['true', 'false'].includes(rememberRaw)) problems.push('HUB_REMEMBER_VIEWERS must be true or false');
  const rememberViewers = rememberRaw === undefined ? production : rememberRaw === 'true';
  const introspectionRaw = env.HUB_INTROSPECTION;
  if (introspectionRaw !== undefined && !['true', 'false'].includes(introspectionRaw)) {
    problems.push('HUB_INTROSPECTION must be true or false');
  }
  const introspection = introspectionRaw === undefined ? !production : introspectionRaw === 'true';
  const maxQueryTokens = integer(env, 'HUB_MAX_QUERY_TOKENS', 3000, 100, 100_000, problems);
  const maxNewDocumentsPerMinute = integer(env, 'HUB_MAX_NEW_DOCUMENTS_PER_MINUTE', 120, 1, 1_000_000, problems);
  const maxResponseBytes = integer(env, 'HUB_MAX_RESPONSE_BYTES', 10 * 1024 * 1024, 1024, 512 * 1024 * 1024, problems);
  const maxHeavyRequestsPerViewer = integer(env, 'HUB_MAX_HEAVY_REQUESTS_PER_VIEWER', 1, 1, 1000, problems);
  const maxNodesPerSession = integer(env, 'HUB_MAX_NODES_PER_SESSION', MAX_NODES_PER_SESSION, 1, MAX_NODES_PER_SESSION, problems);
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
  const streamTimeoutSeconds = env.HUB_STREAM_TIMEOUT ? parseDuration(env.HUB_STREAM_TIMEOUT) : DEFAULT_STREAM_TIMEOUT_SECONDS;
  if (streamTimeoutSeconds === undefined) problems.push(`HUB_STREAM_TIMEOUT must be a duration such as 90s, 10m or 1h (got "${env.HUB_STREAM_TIMEOUT}")`);

  const live: LiveConfig = {
    maxConnections: integer(env, 'HUB_LIVE_MAX_CONNECTIONS', 10_000, 1, 1_000_000, problems),
    maxSubscriptionsPerConnection: integer(env, 'HUB_LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION', 50, 1, 10_000, problems),
    maxSubscriptionsPerViewer: integer(env, 'HUB_LIVE_MAX_SUBSCRIPTIONS_PER_VIEWER', 500, 1, 1_000_000, problems),
    connectionInitTimeoutMs: integer(env, 'HUB_LIVE_CONNECTION_INIT_TIMEOUT_MS', 3000, 100, 600_000, problems),
    maxBufferBytes: integer(env, 'HUB_LIVE_MAX_BUFFER_BYTES', 4 * 1024 * 1024, 1024, 1024 * 1024 * 1024, problems),
    maxConnectionsPerAddress: integer(env, 'HUB_LIVE_MAX_CONNECTIONS_PER_ADDRESS', 1000, 1, 1_000_000, problems),
    maxConnectionsPerViewer: integer(env, 'HUB_LIVE_MAX_CONNECTIONS_PER_VIEWER', 50, 1, 1_000_000, problems),
    stallTimeoutMs: integer(env, 'HUB_LIVE_STALL_TIMEOUT_MS', 30_000, 100, 3_600_000, problems),
    replayConcurrency: integer(env, 'HUB_LIVE_REPLAY_CONCURRENCY', 2, 1, 1000, problems),
    replayQueue: integer(env, 'HUB_LIVE_REPLAY_QUEUE', 1000, 0, 1_000_000, problems),
    maxReplaysPerViewer: integer(env, 'HUB_LIVE_MAX_REPLAYS_PER_VIEWER', 4, 1, 1000, problems),
    batchMs: integer(env, 'HUB_LIVE_BATCH_MS', 10, 0, 10_000, problems),
    reconnectMaxMs: integer(env, 'HUB_LIVE_RECONNECT_MAX_MS', 5000, 100, 600_000, problems),
  };
  const scale = scaleConfig(env, production, problems);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    scale,
    databaseUrl,
    directDatabaseUrl,
    allowSessionSettingsMismatch: allowMismatchRaw === 'true',
    embeddedPgPort,
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
    audioUploads,
    audioContentTypes,
    maxQueryCost,
    maxQueryDepth,
    statementTimeoutMs,
    preparedStatements,
    poolMin,
    rememberViewers,
    corsOrigins,
    introspection,
    live,
    maxQueryTokens,
    maxNewDocumentsPerMinute,
    maxResponseBytes,
    maxHeavyRequestsPerViewer,
    maxNodesPerSession,
    trustedDocuments,
    trustedDocumentsFile,
    maxTokenTtlSeconds: maxTokenTtlSeconds ?? DEFAULT_MAX_TOKEN_TTL_SECONDS,
    streamTimeoutSeconds: streamTimeoutSeconds ?? DEFAULT_STREAM_TIMEOUT_SECONDS,
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
