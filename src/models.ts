import { Message } from './messages/message.entity';
import { Connection } from './pagination/connection';
import { Session } from './sessions/session.entity';
import { Skill } from './skills/skill.entity';
import { User } from './users/user.entity';

/** What resolvers return for the schema's connection types (codegen's mappers point here). */
export type UserConnectionModel = Connection<User>;
export type SessionConnectionModel = Connection<Session>;
export type MessageConnectionModel = Connection<Message>;
export type SkillConnectionModel = Connection<Skill>;
