import { clearLoaders } from '../db/write-transaction';
import { Loaders } from '../loaders';
import { Message } from '../messages/message.entity';
import { Session } from '../sessions/session.entity';
import { Skill } from '../skills/skill.entity';
import { User } from '../users/user.entity';

/** The rows a committed write answers with, as its transaction wrote (or locked) them. */
export interface Written {
  session?: Session;
  owner?: User;
  message?: Message;
  skill?: Skill;
  user?: User;
}

/**
 * After a commit: the request's loaders are cleared (every cached value may be stale) and the
 * by-id loaders are primed with the rows the transaction itself wrote, so the payload's fields
 * (`Message.session`, `Session.owner`, …) resolve from them and never from a later read that a
 * concurrent delete could make vanish. Each row was read under the viewer's scope, so priming
 * with it cannot show the viewer anything it may not see.
 */
export function answerWith(loaders: Loaders, written: Written): void {
  clearLoaders(loaders);
  if (written.session) loaders.sessionById.prime(written.session.id, written.session);
  for (const user of [written.owner, written.user]) if (user) loaders.userById.prime(user.id, user);
  if (written.message) loaders.messageById.prime(written.message.id, written.message);
  if (written.skill) loaders.skillById.prime(written.skill.id, written.skill);
}
