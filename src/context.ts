import { DataSource } from 'typeorm';
import { Viewer } from './auth/viewer';
import { viewerOf } from './users/token-user';
import { Config } from './config';
import { ReadRoute, readSide } from './db/replicas';
import { UserModel } from './users/user.rows';
import { createLoaders, Loaders } from './loaders';
import { AudioStorage } from './storage/audio-storage';
import { LiveRegistrar } from './live/start';
import { Logger } from './logger';
import { RequesterLimits } from './limits/requester-limits';
import { ViewerConfirmation } from './users/viewer-confirmation';

/** What every resolver gets: built fresh for each request, never shared between requests. */
export interface Context {
  viewer: Viewer;
  /** Reads (`query()`) follow the request's read route; writes always use the primary. */
  dataSource: DataSource;
  config: Config;
  loaders: Loaders;
  storage: AudioStorage;
  /** The server's logger (writes log their after-commit failures with it). */
  logger: Logger;
  /** What one requester may hold (src/limits/); refusals are coded and counted. */
  limits: RequesterLimits;
  /** Only in a subscription's `subscribe` resolver: registers it with the live hub. */
  live?: LiveRegistrar;
  /** With read replicas configured: where this request's reads go (see src/db/replicas.ts). */
  reads?: ReadRoute;
  /** False when the viewer's own row does not prime `userById` (a remembered viewer is an id and a role). */
  viewerPrimed?: boolean;
  /**
   * Resolves once the viewer is confirmed to still exist (throws UNAUTHENTICATED otherwise). Only
   * for a remembered viewer (src/users/viewer-confirmation.ts): the executor awaits it before a
   * mutation runs and before any answer is sent.
   */
  confirmViewer?: () => Promise<void>;
}

/** `dataSource` whose `query` goes through the viewer's confirmation (the first read carries it). */
function confirmingReads(dataSource: DataSource, confirmation: ViewerConfirmation): DataSource {
  const query = (sql: string, params?: unknown[]) => confirmation.read(dataSource, sql, params);
  return new Proxy(dataSource, {
    get(target, property) {
      if (property === 'query') return query;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * The viewer's own row, when authentication just loaded it, primes `userById`. A remembered
 * viewer (`confirmation`) is only an id and a role until the request's first read confirms them.
 */
export function createContext(
  dataSource: DataSource,
  config: Config,
  storage: AudioStorage,
  logger: Logger,
  limits: RequesterLimits,
  user: UserModel | Pick<UserModel, 'id' | 'role'>,
  reads?: ReadRoute,
  confirmation?: ViewerConfirmation,
): Context {
  const viewer = viewerOf(user);
  // The loaders read through the route's facade, so no feature loader knows about replicas.
  const routed = reads ? readSide(dataSource, reads) : dataSource;
  const readSource = confirmation ? confirmingReads(routed, confirmation) : routed;
  const loaders = createLoaders(readSource, viewer, config);
  if (!confirmation) loaders.userById.prime(user.id, user as UserModel);
  return {
    viewer,
    dataSource: readSource,
    config,
    loaders,
    storage,
    logger,
    limits,
    reads,
    viewerPrimed: !confirmation,
    ...(confirmation ? { confirmViewer: () => confirmation.settle() } : {}),
  };
}
