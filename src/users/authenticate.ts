import { DataSource } from 'typeorm';
import { Viewer } from '../auth/viewer';
import { verifyToken } from '../auth/tokens';
import { unauthenticated } from '../errors';
import { isUuid } from '../ids';
import { Role } from './user.entity';
import { UserModel, userRows } from './user.rows';

/**
 * Resolves the bearer token of a request to its user with one lookup. A missing, malformed,
 * expired or forged token, one without `exp` or expiring further ahead than `maxTokenTtlSeconds`
 * (`HUB_MAX_TOKEN_TTL`), or a token whose user no longer exists, is UNAUTHENTICATED.
 */
export async function authenticate(
  dataSource: DataSource,
  secret: string,
  authorization: string | undefined,
  maxTokenTtlSeconds?: number,
): Promise<UserModel> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) throw unauthenticated();
  const userId = verifyToken(secret, match[1], maxTokenTtlSeconds);
  if (!userId) throw unauthenticated('The bearer token is invalid or expired');
  if (!isUuid(userId)) {
    throw unauthenticated('The bearer token is invalid or expired');
  }
  // Raw SQL and the users' read model: this runs on every request, where a repository
  // lookup's query building and hydration showed in the profile.
  const [row]: UserModel[] = await dataSource.query(`SELECT ${userRows.select('u')} FROM users u WHERE u.id = $1`, [userId]);
  if (!row) throw unauthenticated('The bearer token belongs to no user');
  return row;
}

export function viewerOf(user: Pick<UserModel, 'id' | 'role'>): Viewer {
  return { id: user.id, isAdmin: user.role === Role.ADMIN };
}
