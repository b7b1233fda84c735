import { loader } from '../db/loader';
import { DataSource } from 'typeorm';
import { Viewer } from '../auth/viewer';
import { byKeys } from '../db/by-keys';
import { SqlParams } from '../pagination/sql-params';
import { User } from './user.entity';
import { toUser, userColumns } from './user.rows';

export function createUserLoaders(dataSource: DataSource, viewer: Viewer) {
  return {
    /** Users the viewer may see: an admin sees everyone, a member only themself. */
    userById: loader<string, User | null>('userById', async (ids) => {
      // A member asking only for others needs no statement to learn there is nothing to see.
      if (!viewer.isAdmin && !ids.includes(viewer.id)) return ids.map(() => null);
      const params = new SqlParams();
      const where = [`u.id = ANY(${params.add(ids)}::uuid[])`];
      if (!viewer.isAdmin) where.push(`u.id = ${params.add(viewer.id)}::uuid`);
      const rows: Record<string, unknown>[] = await dataSource.query(
        `SELECT ${userColumns('u')} FROM users u WHERE ${where.join(' AND ')}`,
        params.values,
      );
      return byKeys(ids, rows.map((row) => toUser(row)), (u) => u.id);
    }),
  };
}
