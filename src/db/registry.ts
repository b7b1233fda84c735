import { Message } from '../messages/message.entity';
import { NodeSync } from '../node-sync/node-sync.entity';
import { Session } from '../sessions/session.entity';
import { SessionSkill } from '../skills/session-skill.entity';
import { Skill } from '../skills/skill.entity';
import { User } from '../users/user.entity';

/** Every entity of the data model; the DataSource lists them explicitly. */
export const ENTITIES = [User, Session, Message, Skill, SessionSkill, NodeSync];

/** Entity subscribers own the cross-entity side effects of writes. */
export const SUBSCRIBERS: Function[] = [];
