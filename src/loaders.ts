import { DataSource } from 'typeorm';
import { Viewer } from './auth/viewer';
import { Config } from './config';
import { createUserLoaders } from './users/user.loaders';

/** Every feature's loaders in one per-request bag. Each loader's SQL includes the viewer's
 * scope, so a cached value can never be one the viewer may not see. */
export function createLoaders(dataSource: DataSource, viewer: Viewer, _config: Config) {
  return {
    ...createUserLoaders(dataSource, viewer),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
