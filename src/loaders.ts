import { DataSource } from 'typeorm';
import { Viewer } from './auth/viewer';
import { Config } from './config';
import { SharedReads } from './db/viewer-keys';
import { createMessageLoaders, messagePrefetch } from './messages/message.loaders';
import { createNodeSyncLoaders, nodeSyncPrefetch } from './node-sync/node-sync.loaders';
import { createSessionLoaders } from './sessions/session.loaders';
import { SessionFieldPrefetch, sessionRelations } from './sessions/session.relations';
import { createSkillLoaders, skillPrefetch } from './skills/skill.loaders';
import { createUserLoaders } from './users/user.loaders';

/**
 * Every feature's loaders in one per-request bag. Each loader's SQL includes the viewer's
 * scope, so a cached value can never be one the viewer may not see. With `shared` (a live
 * batch's), the by-id and relation reads go out with those of the batch's other viewers, each
 * row under its own viewer's scope (src/db/viewer-keys.ts). By-id loaders
 * (`userById`, `sessionById`, `messageById`, `skillById`) are primed by every list that
 * loads their rows; writes clear or prime them.
 */
export function createLoaders(dataSource: DataSource, viewer: Viewer, config: Config, shared?: SharedReads) {
  const sessions = createSessionLoaders(dataSource, viewer, shared);
  // Per-session relations selected together (skills, messages, counts, node sync) share a statement.
  const relations = sessionRelations(dataSource, viewer, shared);
  const messages = createMessageLoaders(dataSource, viewer, relations, sessions.sessionById, shared);
  const skills = createSkillLoaders(dataSource, viewer, relations);
  const nodeSync = createNodeSyncLoaders(dataSource, viewer, relations);
  // Object.assign, not a literal of spreads: V8 (Node 20) builds a literal of several spreads
  // through its slow runtime path, about 30 µs a bag, on every request. (Its typings take up to
  // three sources, hence two calls.)
  return Object.assign(Object.assign({}, createUserLoaders(dataSource, viewer, shared), sessions, messages), skills, nodeSync, {
    /** Not a loader: how `Query.sessions` fetches the relations its nodes select with its page and
     * primes the loaders above with them (see list-sessions.ts). */
    sessionFieldPrefetch: Object.assign({}, messagePrefetch(messages, config.maxPageSize), skillPrefetch(skills), nodeSyncPrefetch(nodeSync)) as SessionFieldPrefetch,
  });
}

export type Loaders = ReturnType<typeof createLoaders>;
