import 'reflect-metadata';
import { DataSource, DataSourceOptions } from 'typeorm';
import { AudioUpload } from './src/audio-uploads/audio-upload.entity';
import { AudioUploadSubscriber } from './src/audio-uploads/audio-upload.subscriber';
import { installWriteGuards } from './src/db/guards';
import { installHeldRows } from './src/db/held-rows';
import { PreparingClient } from './src/db/prepared-statements';
import { CountingLogger } from './src/db/sql-counter';
import { Message } from './src/messages/message.entity';
import { MessageSubscriber } from './src/messages/message.subscriber';
import { NodeSync } from './src/node-sync/node-sync.entity';
import { NodeSyncSubscriber } from './src/node-sync/node-sync.subscriber';
import { Session } from './src/sessions/session.entity';
import { SessionSubscriber } from './src/sessions/session.subscriber';
import { SessionSkill } from './src/skills/session-skill.entity';
import { SessionSkillSubscriber } from './src/skills/session-skill.subscriber';
import { Skill } from './src/skills/skill.entity';
import { SkillSubscriber } from './src/skills/skill.subscriber';
import { AudioCleanupSubscriber } from './src/storage/audio-cleanup.subscriber';
import { User } from './src/users/user.entity';
import { UserSubscriber } from './src/users/user.subscriber';
import { MIGRATIONS } from './migrations';

// The composition root of the data model: the one place that names every feature's entities and
// subscribers, so src/db stays below the features.

/** Every entity of the data model; the DataSource lists them explicitly. */
export const ENTITIES = [User, Session, Message, Skill, SessionSkill, NodeSync, AudioUpload];

/** Entity subscribers own the cross-entity side effects of writes. */
export const SUBSCRIBERS: Function[] = [
  // First: the upload rows of removed users, sessions and messages go before their parents do.
  AudioUploadSubscriber,
  UserSubscriber,
  SessionSubscriber,
  MessageSubscriber,
  SkillSubscriber,
  SessionSkillSubscriber,
  NodeSyncSubscriber,
  AudioCleanupSubscriber,
];

// Every entity has subscriber-owned cascades or derived columns, so every one is guarded:
// update/delete/softDelete/restore/upsert that subscribers cannot see fail loudly (see guards.ts).
installWriteGuards(ENTITIES);
// Rows a write transaction holds locked are not read again by TypeORM's persistence (see held-rows.ts).
installHeldRows();

export interface DataSourceSettings {
  url: string;
  /** Connections in the pool. */
  poolSize?: number;
  /** Reports failed statements and TypeORM warnings (the server passes its logger). */
  onProblem?: (message: string) => void;
  applicationName?: string;
  /** Cancels any statement running longer (the server sets it; bulk CLI work does not). */
  statementTimeoutMs?: number;
  /** Named prepared statements (default on; off behind PgBouncer in transaction mode before 1.21). */
  preparedStatements?: boolean;
}

/** The one DataSource configuration: entities, subscribers and migrations listed explicitly,
 * `synchronize` off (the schema only changes through migrations). */
export function dataSourceOptions(settings: DataSourceSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url: settings.url,
    entities: ENTITIES,
    subscribers: SUBSCRIBERS,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    // gen_random_uuid() is built into PostgreSQL 13+; no extension to install.
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    migrationsRun: false,
    logger: new CountingLogger(settings.onProblem),
    applicationName: settings.applicationName ?? 'hub-session-graph',
    poolSize: settings.poolSize ?? 10,
    extra: {
      // Never wait forever for a connection or a statement.
      connectionTimeoutMillis: 5000,
      // Each distinct statement parsed and planned once per connection (src/db/prepared-statements.ts).
      ...(settings.preparedStatements === false ? {} : { Client: PreparingClient }),
      options: `-c timezone=UTC${settings.statementTimeoutMs ? ` -c statement_timeout=${settings.statementTimeoutMs}` : ''}`,
    },
  };
}

export function createDataSource(settings: DataSourceSettings): DataSource {
  return new DataSource(dataSourceOptions(settings));
}

/** For the TypeORM CLI (`npx typeorm -d dist/ormconfig.js …`), which needs DATABASE_URL;
 * the `hub` CLI starts the embedded database itself when it is unset. */
export default createDataSource({ url: process.env.DATABASE_URL ?? 'postgres://localhost/hub' });
