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
      // A member asking only for others needs no statement to learn there is nothing to see.
      const asked = keys.flatMap((k, i) => (k.viewer.isAdmin || k.key === k.viewer.id ? [{ ...k, at: i }] : []));
      const found: (UserModel | null)[] = keys.map(() => null);
      if (asked.length === 0) return found;
      const params = new SqlParams();
      const rows = await db.query<UserModel & { _nth?: string }>(
        `SELECT k.nth AS "_nth", ${userRows.select('u')} FROM ${viewerKeysRelation(params, asked, 'k')}
         JOIN users u ON u.id = k.key WHERE ${userScopeOfRow('u', 'k.viewer_id', 'k.viewer_admin')}`,
        params.values,
      );
      byPosition(asked.length, rows, (user) => user as UserModel).forEach((user, i) => (found[asked[i].at] = user));
      return found;
    }),
  };
}
