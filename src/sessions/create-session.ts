import { Context } from '../context';
import { distinct, normalizeId } from '../ids';
import { clearLoaders, writeTransaction } from '../db/write-transaction';
import { forbidden, notFound } from '../errors';
import { SessionSkill } from '../skills/session-skill.entity';
import { lockLiveSkills } from '../skills/lock-skills';
import { validateInput } from '../validation';
import { reloadSession } from './lock-session';
import { Session } from './session.entity';
import { CreateSessionInput } from './session.inputs';

/**
 * Creates a session owned by the viewer, or by `ownerId` when the viewer is an ADMIN (a MEMBER
 * naming anyone else is FORBIDDEN), with the given live skills attached (duplicates ignored).
 * An unknown owner or skill is NOT_FOUND and nothing is written. The owner and the skills are
 * locked `FOR SHARE` until commit, so neither can disappear under the new rows.
 */
export async function createSession(ctx: Context, raw: unknown): Promise<Session> {
  const input = await validateInput(CreateSessionInput, raw);
  const ownerId = input.ownerId ? normalizeId(input.ownerId) : ctx.viewer.id;
  if (ownerId !== ctx.viewer.id && !ctx.viewer.isAdmin) throw forbidden('Only an ADMIN may create a session for another user');
  const skillIds = distinct(input.skillIds ?? []);

  const session = await writeTransaction(ctx, async (manager) => {
    const [owner] = await manager.query(`SELECT id FROM users WHERE id = $1 FOR SHARE`, [ownerId]);
    if (!owner) throw notFound('User', ownerId);
    await lockLiveSkills(manager, skillIds);
    const created = await manager.save(manager.create(Session, { userId: ownerId, title: input.title.trim() }));
    if (skillIds.length > 0) {
      await manager.save(skillIds.map((skillId) => manager.create(SessionSkill, { sessionId: created.id, skillId })));
    }
    return reloadSession(manager, created.id);
  });
  clearLoaders(ctx.loaders);
  ctx.loaders.sessionById.prime(session.id, session);
  return session;
}
