import { MessageModel } from './messages/message.rows';
import { Connection } from './pagination/connection';
import { SessionModel } from './sessions/session.rows';
import { SkillModel } from './skills/skill.rows';
import { UserModel } from './users/user.rows';

export type { MessageModel, SessionModel, SkillModel, UserModel };
export type { NodeSyncModel } from './node-sync/node-sync.rows';
export type { MessageSearchConnectionModel } from './search/search-messages';

/** What resolvers return for the schema's object and connection types (codegen's mappers point here). */
export type UserConnectionModel = Connection<UserModel>;
export type SessionConnectionModel = Connection<SessionModel>;
export type MessageConnectionModel = Connection<MessageModel>;
export type SkillConnectionModel = Connection<SkillModel>;
