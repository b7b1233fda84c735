import { GraphQLResolveInfo } from 'graphql';
import { Context } from '../context';
import { forbidden } from '../errors';
import { Connection } from '../pagination/connection';
import { KeysetOrder } from '../pagination/keyset';
import { PageArgs } from '../pagination/page-args';
import { TableList, tableListPage } from '../pagination/table-list';
import { UserModel, userRows } from './user.rows';

export const USERS_OLDEST_FIRST: KeysetOrder<UserModel> = {
  name: 'CREATED_AT_ASC',
  column: 'created_at',
  desc: false,
  kind: 'time',
  valueOf: (u) => u.createdAt,
};

const ALL_USERS: TableList<UserModel> = { name: 'users', table: 'users', alias: 'u', where: [], order: USERS_OLDEST_FIRST, rows: userRows };

/** `Query.users`: every user, oldest first, ADMIN only; the rows prime `userById`. */
export async function listUsers(ctx: Context, args: PageArgs, info: GraphQLResolveInfo): Promise<Connection<UserModel>> {
  if (!ctx.viewer.isAdmin) throw forbidden('Listing users needs the ADMIN role');
  return tableListPage(ctx.dataSource, ALL_USERS, args, info, ctx.config.maxPageSize, (user) => ctx.loaders.userById.prime(user.id, user));
}
