import { Context } from '../context';
import { SkillModel } from '../skills/skill.rows';
import { UserModel } from '../users/user.rows';
import { Connection, Page, toConnection } from '../pagination/connection';
import { encodeCursor, listId } from '../pagination/cursor';
import { cursorKeyOf } from '../pagination/keyset';
import { PageArgs, pageKey, pageRequest } from '../pagination/page-args';
import { SessionModel } from './session.rows';
import { LIVE_SESSIONS, parseSessionFilter, SessionFilter, SessionFilterInput } from './session.filter';
import { SESSION_ORDERS } from './session.order';
import { SessionsPageArgs } from './session.sql';

const NEWEST_FIRST = SESSION_ORDERS.CREATED_AT_DESC;

type PageRaw = PageArgs;

/** One parent's page of sessions, newest first: the arguments checked and keyed, the page
 * loaded through the parent's batched loader, the total counted only when asked for. */
async function sessionsOfParent(
  ctx: Context,
  raw: PageRaw,
  list: string,
  filter: SessionFilter,
  load: (args: SessionsPageArgs, argsKey: string) => Promise<Page<SessionModel>>,
  count: () => Promise<number>,
): Promise<Connection<SessionModel>> {
  const args: SessionsPageArgs = { filter, order: NEWEST_FIRST, ...pageRequest(raw, list, NEWEST_FIRST.kind, ctx.config.maxPageSize) };
  const page = await load(args, JSON.stringify([pageKey(args), args.filter.key]));
  return toConnection(page, (s) => encodeCursor(list, cursorKeyOf(NEWEST_FIRST, s)), count);
}

/** `User.sessions`: this user's visible sessions, newest first, batched across users. */
export function sessionsOfUser(
  ctx: Context,
  user: UserModel,
  raw: PageRaw & { filter?: SessionFilterInput | null },
): Promise<Connection<SessionModel>> {
  const filter = parseSessionFilter(raw.filter);
  return sessionsOfParent(
    ctx,
    raw,
    listId('user.sessions', NEWEST_FIRST.name, filter.key),
    filter,
    (args, argsKey) => ctx.loaders.sessionsPageByUserId.load({ id: user.id, args, argsKey }),
    () => ctx.loaders.sessionCountByUserId.load({ id: user.id, args: filter, argsKey: filter.key }),
  );
}

/** `Skill.sessions`: live visible sessions with this skill, newest first, batched across skills. */
export function sessionsOfSkill(ctx: Context, skill: SkillModel, raw: PageRaw): Promise<Connection<SessionModel>> {
  return sessionsOfParent(
    ctx,
    raw,
    listId('skill.sessions', NEWEST_FIRST.name),
    LIVE_SESSIONS,
    (args, argsKey) => ctx.loaders.sessionsPageBySkillId.load({ id: skill.id, args, argsKey }),
    () => ctx.loaders.sessionCountBySkillId.load(skill.id),
  );
}
