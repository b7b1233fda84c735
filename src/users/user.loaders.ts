import { Viewer } from '../auth/viewer';
import { Queryable } from '../db/query-rows';
import { SqlParams } from '../db/sql-params';
import { byPosition, SharedReads, viewerKeysRelation, viewerLoader } from '../db/viewer-keys';
import { UserModel, userRows } from './user.rows';

/** The users a viewer may see, per row (its id in `idColumn`, its role in `adminColumn`): an
 * admin sees everyone, a member only themself. */
function userScopeOfRow(alias: string, idColumn: string, adminColumn: string): string {
  return `(${adminColumn} OR ${alias}.id = ${idColumn})`;
}

export function createUserLoaders(db: Queryable, viewer: Viewer, shared?: SharedReads) {
  return {
    /** Users the viewer may see (see userScopeOfRow); a live batch reads those of all its viewers at once. */
    userById: viewerLoader<string, UserModel | null>('userById', viewer, shared, async (keys) => {
      // Members asking only for others need no statement to learn there is nothing to see.
      if (!keys.some((k) => k.viewer.isAdmin || k.key === k.viewer.id)) return keys.map(() => null);
      const params = new SqlParams();
      const rows = await db.query<UserModel & { _nth?: string }>(
        `SELECT k.nth AS "_nth", ${userRows.select('u')} FROM ${viewerKeysRelation(params, keys, 'k')}
         JOIN users u ON u.id = k.key WHERE ${userScopeOfRow('u', 'k.viewer_id', 'k.viewer_admin')}`,
        params.values,
      );
      return byPosition(keys.length, rows, (user) => user as UserModel);
    }),
  };
}
