import { DataSource } from 'typeorm';
import { Viewer } from './auth/viewer';
import { viewerOf } from './users/authenticate';
import { Config } from './config';
import { User } from './users/user.entity';
import { createLoaders, Loaders } from './loaders';
import { AudioStorage } from './storage/storage';
import { LiveRegistrar } from './live/transports';

/** What every resolver gets: built fresh for each request, never shared between requests. */
export interface Context {
  viewer: Viewer;
  dataSource: DataSource;
  config: Config;
  loaders: Loaders;
  storage: AudioStorage;
  /** Only in a subscription's `subscribe` resolver: registers it with the live hub. */
  live?: LiveRegistrar;
}

/** The viewer's own row is already loaded by authentication: it primes `userById`. */
export function createContext(dataSource: DataSource, config: Config, storage: AudioStorage, user: User): Context {
  const viewer = viewerOf(user);
  const loaders = createLoaders(dataSource, viewer, config);
  loaders.userById.prime(user.id, user);
  return { viewer, dataSource, config, loaders, storage };
}
