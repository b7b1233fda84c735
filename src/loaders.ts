import { DataSource } from 'typeorm';
import { Viewer } from './auth/viewer';
import { Config } from './config';
import { createMessageLoaders } from './messages/message.loaders';
import { createNodeSyncLoaders } from './node-sync/node-sync.loaders';
import { createSessionLoaders } from './sessions/session.loaders';
import { createSkillLoaders } from './skills/skill.loaders';
import { createUserLoaders } from './users/user.loaders';

/**
 * Every feature's loaders in one per-request bag. Each loader's SQL includes the viewer's
 * scope, so a cached value can never be one the viewer may not see. By-id loaders
 * (`userById`, `sessionById`, `messageById`, `skillById`) are primed by every list that
 * loads their rows; writes clear or prime them.
 */
export function createLoaders(dataSource: DataSource, viewer: Viewer, _config: Config) {
  const sessions = createSessionLoaders(dataSource, viewer);
  return {
    ...createUserLoaders(dataSource, viewer),
    ...sessions,
    ...createMessageLoaders(dataSource, viewer, sessions.sessionById),
    ...createSkillLoaders(dataSource, viewer),
    ...createNodeSyncLoaders(dataSource, viewer),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
