import { In } from 'typeorm';
import { Context } from '../context';
import { distinct } from '../ids';
import { clearLoaders, writeTransaction } from '../db/write-transaction';
import { lockSession, reloadSession } from '../sessions/lock-session';
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
  const session = await writeTransaction(ctx, async (manager) => {
    const current = await lockSession(manager, ctx.viewer, args.sessionId, 'live');
    if (skillIds.length > 0) {
      const links = await manager.find(SessionSkill, { where: { sessionId: current.id, skillId: In(skillIds) } });
      if (links.length > 0) await manager.remove(links);
    }
    return reloadSession(manager, current.id);
  });
  clearLoaders(ctx.loaders);
  ctx.loaders.sessionById.prime(session.id, session);
  return session;
}
