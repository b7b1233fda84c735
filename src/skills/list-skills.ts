import { GraphQLResolveInfo } from 'graphql';
import { Context } from '../context';
import { Connection } from '../pagination/connection';
import { KeysetOrder } from '../pagination/keyset';
import { PageArgs } from '../pagination/page-args';
import { TableList, tableListPage } from '../pagination/table-list';
import { SkillModel, skillRows } from './skill.rows';

/** Names are unique among live skills; the id only makes the order total by construction. */
export const SKILLS_BY_NAME: KeysetOrder<SkillModel> = { name: 'NAME_ASC', column: 'name', desc: false, kind: 'text', valueOf: (s) => s.name };

const LIVE_SKILLS: TableList<SkillModel> = {
  name: 'skills',
  table: 'skills',
  alias: 'sk',
  where: ['sk.deleted_at IS NULL'],
  order: SKILLS_BY_NAME,
  rows: skillRows,
};

/** `Query.skills`: the live catalogue by name; the total joins the page's statement when selected. */
export async function listSkills(ctx: Context, args: PageArgs, info: GraphQLResolveInfo): Promise<Connection<SkillModel>> {
  return tableListPage(ctx.dataSource, LIVE_SKILLS, args, info, ctx.config.maxPageSize, (skill) =>
    ctx.loaders.skillById.prime(skill.id, skill),
  );
}
