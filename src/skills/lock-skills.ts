import { EntityManager } from 'typeorm';
import { notFound } from '../errors';

/**
 * Locks live catalogue skills `FOR SHARE` for the caller's transaction (so none can leave the
 * catalogue before the caller's links commit) and fails NOT_FOUND naming the first id that is
 * absent or deleted. Skills are always locked before sessions, the order every writer keeps.
 */
export async function lockLiveSkills(manager: EntityManager, skillIds: string[]): Promise<void> {
  if (skillIds.length === 0) return;
  const rows: { id: string }[] = await manager.query(
    `SELECT id FROM skills WHERE id = ANY($1) AND deleted_at IS NULL ORDER BY id FOR SHARE`,
    [skillIds],
  );
  const live = new Set(rows.map((r) => r.id));
  const missing = skillIds.find((id) => !live.has(id));
  if (missing) throw notFound('Skill', missing);
}
