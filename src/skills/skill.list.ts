import { GraphQLResolveInfo } from 'graphql';
import { Context } from '../context';
import { Connection } from '../pagination/connection';
import { decodeCursor, encodeCursor, listId } from '../pagination/cursor';
import { afterSql, cursorKeyOf, KeysetOrder, orderSql } from '../pagination/keyset';
import { pageSize } from '../pagination/page-size';
import { pageWithTotal, rowsToConnection } from '../pagination/page-sql';
import { connectionSelection } from '../pagination/selection';
import { SqlParams } from '../pagination/sql-params';
import { Skill } from './skill.entity';
import { skillColumns, toSkill } from './skill.rows';

/** Names are unique among live skills; the id only makes the order total by construction. */
export const SKILLS_BY_NAME: KeysetOrder<Skill> = { name: 'NAME_ASC', column: 'name', desc: false, kind: 'text', valueOf: (s) => s.name };

/** `Query.skills`: the live catalogue by name; the total joins the page's statement when selected. */
export async function listSkills(
  ctx: Context,
  args: { first?: number | null; after?: string | null },
  info: GraphQLResolveInfo,
): Promise<Connection<Skill>> {
  const size = pageSize(args.first, ctx.config.maxPageSize);
  const list = listId('skills', SKILLS_BY_NAME.name);
  const after = decodeCursor(list, args.after, SKILLS_BY_NAME.kind);
  const withCount = connectionSelection(info).totalCount;

  const params = new SqlParams();
  const where = ['sk.deleted_at IS NULL'];
  const countSql = `SELECT count(*)::int AS total_count FROM skills sk WHERE ${where.join(' AND ')}`;
  if (after) where.push(afterSql(SKILLS_BY_NAME, 'sk', after, params));
  const pageSql = `SELECT ${skillColumns('sk')} FROM skills sk WHERE ${where.join(' AND ')}
    ORDER BY ${orderSql(SKILLS_BY_NAME, 'sk')} LIMIT ${params.add(size + 1)}`;
  const sql = withCount ? pageWithTotal(pageSql, countSql, orderSql(SKILLS_BY_NAME, 'page')) : pageSql;
  const rows: Record<string, any>[] = await ctx.dataSource.query(sql, params.values);

  return rowsToConnection(rows, {
    size,
    afterGiven: Boolean(args.after),
    withCount,
    toNode: (row) => {
      const skill = toSkill(row);
      ctx.loaders.skillById.prime(skill.id, skill);
      return skill;
    },
    cursorOf: (s) => encodeCursor(list, cursorKeyOf(SKILLS_BY_NAME, s)),
    count: async () => (await ctx.dataSource.query(countSql))[0].total_count,
  });
}
