import { EntityManager } from 'typeorm';
import { Viewer } from '../auth/viewer';
import { notFound } from '../errors';
import { sessionScope } from './session.scope';
import { Session } from './session.entity';

/**
 * Loads and locks (`FOR UPDATE`) a session the viewer may change, for the rest of the caller's
 * transaction, so concurrent writers to one session take turns. A session outside the viewer's
 * scope is NOT_FOUND exactly like an absent one; `live` also treats a soft-deleted one so.
 */
export async function lockSession(manager: EntityManager, viewer: Viewer, id: string, which: 'live' | 'any'): Promise<Session> {
  const scope = sessionScope(viewer, 's');
  const query = manager
    .createQueryBuilder(Session, 's')
    .withDeleted()
    .where('s.id = :id', { id })
    .andWhere(scope.sql, scope.params)
    .setLock('pessimistic_write');
  if (which === 'live') query.andWhere('s.deleted_at IS NULL');
  const session = await query.getOne();
  if (!session) throw notFound('Session', id);
  return session;
}

/** The session row as it is now, after the subscribers' changes in this transaction. */
export async function reloadSession(manager: EntityManager, id: string): Promise<Session> {
  return manager.findOneOrFail(Session, { where: { id }, withDeleted: true });
}
