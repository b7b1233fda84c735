import { byCodePoints } from '../common/text';
import { clearLoaders } from '../db/write-transaction';
import { Message } from '../messages/message.entity';
import { NodeSync } from '../node-sync/node-sync.entity';
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
  /** The session's skills after the write, when the write changed them (create, attach, detach). */
  skills?: Skill[];
  /** The session's node sync rows after the write, when the write changed them (reportNodeSync). */
  nodeSync?: NodeSync[];
}

/** What a write primes: the request's by-id loaders and the two per-session lists a write changes (`prime` only). */
interface Primes<V> {
  prime(key: string, value: V): unknown;
}
export interface ByIdLoaders {
  userById: Primes<User>;
  sessionById: Primes<Session>;
  messageById: Primes<Message>;
  skillById: Primes<Skill>;
  skillsBySessionId: Primes<Skill[]>;
  nodeSyncBySessionId: Primes<NodeSync[]>;
}

/**
 * After a commit: the request's loaders are cleared (every cached value may be stale) and
 * primed with what the transaction itself wrote or locked, so the answer describes this write
 * and no later one (README, Consistency): the by-id loaders with its rows (`Message.session`,
 * `Session.owner`, …, which a concurrent delete could otherwise make vanish) and, for
 * `written.session`, the lists the write changed (`skills`, `nodeSync`), in the order the read
 * path gives them. Each row was read under the viewer's scope, so priming with it cannot show
 * the viewer anything it may not see. Every other field is read after the commit. `loaders` is
 * the request's bag: every loader in it is cleared, then these primed.
 */
export function answerWith(loaders: ByIdLoaders, written: Written): void {
  clearLoaders(loaders);
  if (written.session) loaders.sessionById.prime(written.session.id, written.session);
  for (const user of [written.owner, written.user]) if (user) loaders.userById.prime(user.id, user);
  if (written.message) loaders.messageById.prime(written.message.id, written.message);
  if (written.skill) loaders.skillById.prime(written.skill.id, written.skill);
  if (written.session && written.skills) {
    const skills = [...new Map(written.skills.map((k) => [k.id, k])).values()].sort((a, b) => byCodePoints(a.name, b.name) || byCodePoints(a.id, b.id));
    for (const skill of skills) loaders.skillById.prime(skill.id, skill);
    loaders.skillsBySessionId.prime(written.session.id, skills);
  }
  if (written.session && written.nodeSync) {
    loaders.nodeSyncBySessionId.prime(written.session.id, [...written.nodeSync].sort((a, b) => byCodePoints(a.nodeId, b.nodeId)));
  }
}
