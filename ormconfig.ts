import 'reflect-metadata';
import { DataSource, DataSourceOptions } from 'typeorm';
import { AudioUpload } from './src/audio-uploads/audio-upload.entity';
import { AudioUploadSubscriber } from './src/audio-uploads/audio-upload.entity-events';
import { DataModel, DataSourceSettings, modelDataSourceOptions } from './src/db/data-source';
import { installWriteGuards } from './src/db/guards';
import { installHeldRows } from './src/db/held-rows';
import { AfterCommitRollbackSubscriber } from './src/db/write-transaction.entity-events';
import { Message } from './src/messages/message.entity';
import { MessageSubscriber } from './src/messages/message.entity-events';
import { NodeSync } from './src/node-sync/node-sync.entity';
import { NodeSyncSubscriber } from './src/node-sync/node-sync.entity-events';
import { Session } from './src/sessions/session.entity';
import { SessionSubscriber } from './src/sessions/session.entity-events';
import { SessionSkill } from './src/skills/session-skill.entity';
import { SessionSkillSubscriber } from './src/skills/session-skill.entity-events';
import { Skill } from './src/skills/skill.entity';
import { SkillSubscriber } from './src/skills/skill.entity-events';
import { User } from './src/users/user.entity';
import { UserSubscriber } from './src/users/user.entity-events';
import { MIGRATIONS } from './migrations';

// The composition root of the data model: the one place that names every feature's entities and
// subscribers, so src/db stays below the features.

/** Every entity of the data model; the DataSource lists them explicitly. */
export const ENTITIES = [User, Session, Message, Skill, SessionSkill, NodeSync, AudioUpload];

/**
 * Entity subscribers own the cross-entity side effects of writes. Their order does not matter:
 * no two of them handle the same event of the same entity (test/write/subscribers.test.ts), so
 * TypeORM's broadcast order never decides which effect comes first.
 */
export const SUBSCRIBERS: Function[] = [
  AudioUploadSubscriber,
  UserSubscriber,
  SessionSubscriber,
  MessageSubscriber,
  SkillSubscriber,
  SessionSkillSubscriber,
  NodeSyncSubscriber,
  AfterCommitRollbackSubscriber,
];

// Every entity has subscriber-owned cascades or derived columns, so every one is guarded:
// update/delete/softDelete/restore/upsert that subscribers cannot see fail loudly (see guards.ts).
installWriteGuards(ENTITIES);
// Rows a write transaction holds locked are not read again by TypeORM's persistence (see held-rows.ts).
installHeldRows();

/** The data model of the hub, for src/db's DataSource options (src/db/data-source.ts). */
export const DATA_MODEL: DataModel = { entities: ENTITIES, subscribers: SUBSCRIBERS, migrations: MIGRATIONS };

export function dataSourceOptions(settings: DataSourceSettings): DataSourceOptions {
  return modelDataSourceOptions(DATA_MODEL, settings);
}

export function createDataSource(settings: DataSourceSettings): DataSource {
  return new DataSource(dataSourceOptions(settings));
}

/** For the TypeORM CLI (`npx typeorm -d dist/ormconfig.js …`), which needs DATABASE_URL;
 * the `hub` CLI starts the embedded database itself when it is unset. */
export default createDataSource({ url: process.env.DATABASE_URL ?? 'postgres://localhost/hub' });
