import { Context } from '../context';
import { Skill } from '../skills/skill.entity';
import { User } from '../users/user.entity';
import { Connection, toConnection } from '../pagination/connection';
import { decodeCursor, encodeCursor, listId } from '../pagination/cursor';
import { cursorKeyOf } from '../pagination/keyset';
import { pageSize } from '../pagination/page-size';
import { Session } from './session.entity';
import { LIVE_SESSIONS, parseSessionFilter, SessionFilterInput } from './session.filter';
import { SESSION_ORDERS } from './session.order';
import { SessionsPageArgs } from './session.sql';

const NEWEST_FIRST = SESSION_ORDERS.CREATED_AT_DESC;

function argsKey(args: SessionsPageArgs): string {
  return JSON.stringify([args.size, args.after, args.filter.key]);
}

/** `User.sessions`: this user's visible sessions, newest first, batched across users. */
export async function sessionsOfUser(
  ctx: Context,
  user: User,
  raw: { first?: number | null; after?: string | null; filter?: SessionFilterInput | null },
): Promise<Connection<Session>> {
  const filter = parseSessionFilter(raw.filter);
  const list = listId('user.sessions', NEWEST_FIRST.name, filter.key);
  const args: SessionsPageArgs = {
    filter,
    order: NEWEST_FIRST,
    size: pageSize(raw.first, ctx.config.maxPageSize),
    after: decodeCursor(list, raw.after, NEWEST_FIRST.kind),
  };
  const page = await ctx.loaders.sessionsPageByUserId.load({ id: user.id, args, argsKey: argsKey(args) });
  return toConnection(
    page,
    Boolean(raw.after),
    (s) => encodeCursor(list, cursorKeyOf(NEWEST_FIRST, s)),
    () => ctx.loaders.sessionCountByUserId.load({ id: user.id, args: filter, argsKey: filter.key }),
  );
}

/** `Skill.sessions`: live visible sessions with this skill, newest first, batched across skills. */
export async function sessionsOfSkill(
  ctx: Context,
  skill: Skill,
  raw: { first?: number | null; after?: string | null },
): Promise<Connection<Session>> {
  const list = listId('skill.sessions', NEWEST_FIRST.name);
  const args: SessionsPageArgs = {
    filter: LIVE_SESSIONS,
    order: NEWEST_FIRST,
    size: pageSize(raw.first, ctx.config.maxPageSize),
    after: decodeCursor(list, raw.after, NEWEST_FIRST.kind),
  };
  const page = await ctx.loaders.sessionsPageBySkillId.load({ id: skill.id, args, argsKey: argsKey(args) });
  return toConnection(
    page,
    Boolean(raw.after),
    (s) => encodeCursor(list, cursorKeyOf(NEWEST_FIRST, s)),
    () => ctx.loaders.sessionCountBySkillId.load(skill.id),
  );
}
