import { Context } from '../context';
import { distinct } from '../ids';
import { answerWith } from '../consistency/prime-after-write';
import { lockSession } from '../consistency/locks';
import { hold } from '../db/held-rows';
import { writeTransaction } from '../db/write-transaction';
import { Session } from '../sessions/session.entity';
import { validateInput } from '../validation';
import { SessionSkill } from './session-skill.entity';
import { SessionSkillsArgs } from './skill.inputs';

/**
 * Detaches skills from a live session the viewer may change; ids not attached (or unknown) are
 * ignored. The session's `updatedAt` moves only if a link was removed. Absent, soft-deleted or
 * invisible session: NOT_FOUND.
 */
export async function detachSkills(ctx: Context, props: { sessionId: string; skillIds: string[] }): Promise<Session> {
  const args = await validateInput(SessionSkillsArgs, props, '');
  const skillIds = distinct(args.skillIds);
  const written = await writeTransaction(ctx, async (manager) => {
    const locked = await lockSession(manager, ctx.viewer, args.sessionId, 'live');
    // The session's lock covers its links: they are held as read, and those left are the answer's `skills`.
    const links = await manager.find(SessionSkill, { where: { sessionId: locked.session.id }, relations: { skill: true } });
    const detached = new Set(skillIds);
    const gone = links.filter((link) => detached.has(link.skillId));
    // Before the remove, which clears the removed entities' keys.
    const skills = links.filter((link) => !detached.has(link.skillId)).map((link) => link.skill!);
    if (gone.length > 0) await manager.remove(hold(manager, SessionSkill, gone));
    return { ...locked, skills };
  });
  answerWith(ctx.loaders, written);
  return written.session;
}
