import { GraphQLResolveInfo } from 'graphql';
import { Context } from '../context';
import { Connection } from '../pagination/connection';
import { encodeCursor, listId } from '../pagination/cursor';
import { anyRowSql, cursorKeyOf, edgeFlagsSql, KeysetOrder, orderSql, windowSql } from '../pagination/keyset';
import { PageArgs, pageRequest } from '../pagination/page-args';
import { pageWithExtras, rowsToConnection } from '../pagination/page-sql';
import { connectionSelection } from '../pagination/selection';
import { SqlParams } from '../pagination/sql-params';
import { SkillModel, skillRows } from './skill.rows';

/** Names are unique among live skills; the id only makes the order total by construction. */
export const SKILLS_BY_NAME: KeysetOrder<SkillModel> = { name: 'NAME_ASC', column: 'name', desc: false, kind: 'text', valueOf: (s) => s.name };

/** `Query.skills`: the live catalogue by name; the total joins the page's statement when selected. */
export async function listSkills(ctx: Context, args: PageArgs, info: GraphQLResolveInfo): Promise<Connection<SkillModel>> {
  const order = SKILLS_BY_NAME;
  const list = listId('skills', order.name);
  const request = pageRequest(args, list, order.kind, ctx.config.maxPageSize);
  const withCount = connectionSelection(info).totalCount;

  const params = new SqlParams();
  const live = 'sk.deleted_at IS NULL';
  const countSql = `SELECT count(*)::int AS total_count FROM skills sk WHERE ${live}`;
  const where = [live, ...windowSql(order, 'sk', request, params)];
  const pageSql = (select: string) => `SELECT ${select} FROM skills sk WHERE ${where.join(' AND ')}
    ORDER BY ${orderSql(order, 'sk', request.backward)} LIMIT ${params.limit(request.size + 1)}`;
  const flags = edgeFlagsSql(order, 'sk', request, params, (c, o) => anyRowSql('skills sk', `${live} AND ${c}`, o));
  const extras = [...(withCount ? [`(${countSql}) AS total_count`] : []), ...(flags ? [flags] : [])];
  // With extras the page keeps its raw columns (ordered on them); the read models are formatted outside.
  const sql = extras.length
    ? pageWithExtras(pageSql('sk.*'), extras, orderSql(order, 'page', request.backward), 'page', skillRows.select('page'))
    : pageSql(skillRows.select('sk'));
  const rows: Record<string, unknown>[] = await ctx.dataSource.query(sql, params.values);

  return rowsToConnection(rows, {
    request,
    withCount,
    toNode: (row) => {
      const skill = skillRows.fromRow(row);
      ctx.loaders.skillById.prime(skill.id, skill);
      return skill;
    },
    cursorOf: (s) => encodeCursor(list, cursorKeyOf(order, s)),
    count: async () => (await ctx.dataSource.query(countSql))[0].total_count,
  });
}
