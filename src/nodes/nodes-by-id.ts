import { Context } from '../context';
import { badField } from '../errors';
import { parseId } from '../ids';
import { MessageModel } from '../messages/message.rows';
import { visibleMessage } from '../messages/message.resolvers';
import { SessionModel } from '../sessions/session.rows';
import { SkillModel } from '../skills/skill.rows';
import { UserModel } from '../users/user.rows';

/** What `node` and `nodes` return: the types that implement `Node`. */
export type NodeModel = UserModel | SessionModel | MessageModel | SkillModel;

/**
 * Resolves ids of any `Node` type. Ids are raw UUIDs shared by four tables (today's ids stay
 * valid, so no type prefix tells which), so every id is tried on the four by-id loaders in one
 * round: DataLoader batches each loader's keys, and any number of ids of any mix costs at most
 * four statements (a member's `userById` costs none unless their own id is asked). Visibility is
 * each loader's scope plus the rule of the type's own query field (`session` and `message` hide
 * soft-deleted rows), so another member's id is `null`, exactly as an absent one.
 */
export async function nodesById(ctx: Context, ids: readonly string[]): Promise<(NodeModel | null)[]> {
  const { userById, sessionById, messageById, skillById } = ctx.loaders;
  const found = await Promise.all(
    ids.map((id) => Promise.all([userById.load(id), sessionById.load(id), messageById.load(id), skillById.load(id)])),
  );
  return Promise.all(
    found.map(async ([user, session, message, skill]) => {
      if (user) return user;
      if (session) return session.deletedAt ? null : session;
      if (message) return visibleMessage(ctx, message);
      return skill;
    }),
  );
}

/** `Query.node`. */
export async function node(ctx: Context, id: unknown): Promise<NodeModel | null> {
  const [found] = await nodesById(ctx, [parseId(id)]);
  return found;
}

/** `Query.nodes`: one entry per id, in order, `null` where absent or not visible; at most a page's worth. */
export function nodes(ctx: Context, ids: readonly unknown[]): Promise<(NodeModel | null)[]> {
  if (ids.length > ctx.config.maxPageSize) throw badField('ids', `must name at most ${ctx.config.maxPageSize} ids`);
  return nodesById(ctx, ids.map((id, i) => parseId(id, `ids[${i}]`)));
}

/** `Node.__resolveType`: by a column only that type has (loaders return plain read models, writes
 * entity instances: both carry their columns). */
export function nodeTypeOf(value: NodeModel): 'User' | 'Session' | 'Message' | 'Skill' {
  if ('email' in value) return 'User';
  if ('isSyncing' in value) return 'Session';
  if ('content' in value) return 'Message';
  if ('description' in value) return 'Skill';
  throw new Error('invariant broken: a Node that is none of User, Session, Message, Skill');
}
