import { Context } from '../context';
import { distinct, normalizeId } from '../ids';
import { answerWith } from '../consistency/prime-after-write';
import { lockOwner, lockSkills } from '../consistency/locks';
import { hold } from '../db/held-rows';
import { writeTransaction } from '../db/write-transaction';
import { forbidden } from '../errors';
import { SessionSkill } from '../skills/session-skill.entity';
import { validateInput } from '../validation';
import { Session } from './session.entity';
import { CreateSessionInput } from './session.inputs';

/**
 * Creates a session owned by the viewer, or by `ownerId` when the viewer is an ADMIN (a MEMBER
 * naming anyone else is FORBIDDEN), with the given live skills attached (duplicates ignored).
 * An unknown owner or skill is NOT_FOUND and nothing is written. The owner and the skills are
 * locked `FOR SHARE` until commit (users, then skills: the lock order), so neither can
 * disappear under the new rows.
 */
export async function createSession(ctx: Context, raw: unknown): Promise<Session> {
  const input = await validateInput(CreateSessionInput, raw);
  const ownerId = input.ownerId ? normalizeId(input.ownerId) : ctx.viewer.id;
  if (ownerId !== ctx.viewer.id && !ctx.viewer.isAdmin) throw forbidden('Only an ADMIN may create a session for another user');
  const skillIds = distinct(input.skillIds ?? []);

  const written = await writeTransaction(ctx, async (manager) => {
    const owner = await lockOwner(manager, ownerId, ctx.viewer);
    const skills = await lockSkills(manager, skillIds, 'link');
    const [session] = hold(manager, Session, [await manager.save(manager.create(Session, { userId: ownerId, title: input.title }))]);
    if (skillIds.length > 0) {
      // Observed by the session-skill subscriber, which moves the held session's updatedAt.
      const links = skillIds.map((skillId) => ({ sessionId: session.id, skillId }));
      await manager.createQueryBuilder().insert().into(SessionSkill).values(links).updateEntity(false).execute();
    }
    return { session, owner, skills };
  });
  answerWith(ctx.loaders, written);
  return written.session;
}
