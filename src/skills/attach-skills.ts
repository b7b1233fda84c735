import { Context } from '../context';
import { distinct } from '../ids';
import { answerWith } from '../consistency/prime-after-write';
import { lockSession, lockSkills } from '../consistency/locks';
import { writeTransaction } from '../db/write-transaction';
import { Session } from '../sessions/session.entity';
import { validateInput } from '../validation';
import { SessionSkill } from './session-skill.entity';
import { SessionSkillsArgs } from './skill.inputs';

/**
 * Attaches live skills to a live session the viewer may change; skills already attached stay as
 * they are and duplicates are ignored. The skills (FOR SHARE) and then the session (FOR UPDATE)
 * are locked, and links are inserted with ON CONFLICT DO NOTHING, so concurrent attaches of the
 * same skill never fail. The session's `updatedAt` moves only if a link was added. Unknown or
 * deleted skill, or absent, soft-deleted or invisible session: NOT_FOUND, and nothing is written.
 */
export async function attachSkills(ctx: Context, props: { sessionId: string; skillIds: string[] }): Promise<Session> {
  const args = await validateInput(SessionSkillsArgs, props, '');
  const skillIds = distinct(args.skillIds);
  const written = await writeTransaction(ctx, async (manager) => {
    const skills = await lockSkills(manager, skillIds, 'link');
    const locked = await lockSession(manager, ctx.viewer, args.sessionId, 'live');
    // Under the session's lock its links are what this read sees; a linked skill is live (a
    // skill leaving the catalogue takes its links), so these are the answer's `skills` too.
    const existing = await manager.find(SessionSkill, { where: { sessionId: locked.session.id }, relations: { skill: true } });
    const attached = new Set(existing.map((link) => link.skillId));
    const links = skillIds.filter((id) => !attached.has(id)).map((skillId) => ({ sessionId: locked.session.id, skillId }));
    if (links.length > 0) {
      // Observed by the session-skill subscriber (inserts carry their values); `orIgnore` makes
      // a link that appeared meanwhile a no-op instead of a duplicate-key error.
      await manager.createQueryBuilder().insert().into(SessionSkill).values(links).orIgnore().updateEntity(false).execute();
    }
    return { ...locked, skills: [...existing.map((link) => link.skill!), ...skills] };
  });
  answerWith(ctx.loaders, written);
  return written.session;
}
