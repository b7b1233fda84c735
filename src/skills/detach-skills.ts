import { In } from 'typeorm';
import { Context } from '../context';
import { distinct } from '../ids';
import { answerWith } from '../consistency/answer';
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
    if (skillIds.length > 0) {
      // The session's lock covers its links: they are held as read.
      const links = await manager.find(SessionSkill, { where: { sessionId: locked.session.id, skillId: In(skillIds) } });
      if (links.length > 0) await manager.remove(hold(manager, SessionSkill, links));
    }
    return locked;
  });
  answerWith(ctx.loaders, written);
  return written.session;
}
