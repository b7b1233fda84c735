import { Queryable } from '../db/query-rows';
import { Viewer } from '../auth/viewer';
import { Role } from './user.entity';
import { UserModel, userRows } from './user.rows';

/**
 * The user a bearer token names, for authentication (auth/authenticate-request.ts): one
 * statement. Raw SQL and the users' read model: this runs on every request, where a repository
 * lookup's query building and hydration showed in the profile.
 */
export async function tokenUser(dataSource: Queryable, id: string): Promise<UserModel | undefined> {
  const [row] = await dataSource.query<UserModel>(`SELECT ${userRows.select('u')} FROM users u WHERE u.id = $1`, [id]);
  return row;
}

export function viewerOf(user: Pick<UserModel, 'id' | 'role'>): Viewer {
  return { id: user.id, isAdmin: user.role === Role.ADMIN };
}
