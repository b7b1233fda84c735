import { Viewer } from '../auth/viewer';
import { byKeys } from '../db/by-keys';
import { loader } from '../db/loader';
import { Queryable } from '../db/query-rows';
import { SqlParams } from '../db/sql-params';
import { UserModel, userRows } from './user.rows';

export function createUserLoaders(db: Queryable, viewer: Viewer) {
  return {
    /** Users the viewer may see: an admin sees everyone, a member only themself. */
    userById: loader<string, UserModel | null>('userById', async (ids) => {
      // A member asking only for others needs no statement to learn there is nothing to see.
      if (!viewer.isAdmin && !ids.includes(viewer.id)) return ids.map(() => null);
      const params = new SqlParams();
      const where = [`u.id = ANY(${params.add(ids)}::uuid[])`];
      if (!viewer.isAdmin) where.push(`u.id = ${params.add(viewer.id)}::uuid`);
      const rows = await db.query<UserModel>(`SELECT ${userRows.select('u')} FROM users u WHERE ${where.join(' AND ')}`, params.values);
      return byKeys(ids, rows, (u) => u.id);
    }),
  };
}
