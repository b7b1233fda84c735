import { Message } from '../messages/message.entity';
import { MessageSubscriber } from '../messages/message.subscriber';
import { NodeSync } from '../node-sync/node-sync.entity';
import { NodeSyncSubscriber } from '../node-sync/node-sync.subscriber';
import { Session } from '../sessions/session.entity';
import { SessionSubscriber } from '../sessions/session.subscriber';
import { SessionSkill } from '../skills/session-skill.entity';
import { SessionSkillSubscriber } from '../skills/session-skill.subscriber';
import { Skill } from '../skills/skill.entity';
import { SkillSubscriber } from '../skills/skill.subscriber';
import { AudioCleanupSubscriber } from '../storage/audio-cleanup.subscriber';
import { User } from '../users/user.entity';
import { UserSubscriber } from '../users/user.subscriber';
import { installWriteGuards } from './guards';

/** Every entity of the data model; the DataSource lists them explicitly. */
export const ENTITIES = [User, Session, Message, Skill, SessionSkill, NodeSync];

/** Entity subscribers own the cross-entity side effects of writes. */
export const SUBSCRIBERS: Function[] = [
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
