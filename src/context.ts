import { DataSource } from 'typeorm';
import { Viewer } from './auth/viewer';
import { viewerOf } from './users/authenticate';
import { Config } from './config';
import { ReadRoute, readSide } from './db/replicas';
import { UserModel } from './users/user.rows';
import { createLoaders, Loaders } from './loaders';
import { AudioStorage } from './storage/storage';
import { LiveRegistrar } from './live/transports';

/** What every resolver gets: built fresh for each request, never shared between requests. */
export interface Context {
  viewer: Viewer;
  /** Reads (`query()`) follow the request's read route; writes always use the primary. */
  dataSource: DataSource;
  config: Config;
  loaders: Loaders;
  storage: AudioStorage;
  /** Only in a subscription's `subscribe` resolver: registers it with the live hub. */
  live?: LiveRegistrar;
  /** With read replicas configured: where this request's reads go (see src/db/replicas.ts). */
  reads?: ReadRoute;
}

/** The viewer's own row is already loaded by authentication: it primes `userById`. */
export function createContext(dataSource: DataSource, config: Config, storage: AudioStorage, user: UserModel, reads?: ReadRoute): Context {
  const viewer = viewerOf(user);
  // The loaders read through the route's facade, so no feature loader knows about replicas.
  const readSource = reads ? readSide(dataSource, reads) : dataSource;
  const loaders = createLoaders(readSource, viewer, config);
  loaders.userById.prime(user.id, user);
  return { viewer, dataSource: readSource, config, loaders, storage, reads };
}
