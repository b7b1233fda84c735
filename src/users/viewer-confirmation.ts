import { GraphQLError } from 'graphql';
import { BoundedMap } from '../common/bounded-map';
import { unauthenticated, unavailable } from '../errors';
import { Queryable } from '../db/query-rows';
import { tokenUser } from './token-user';
import { UserModel } from './user.rows';

/** Who a token's user was when a request of this process last looked them up. */
export type RememberedViewer = Pick<UserModel, 'id' | 'role'>;

/** Users remembered per process, least recently used out first. */
const REMEMBERED_VIEWERS = 10_000;

/**
 * The users whose tokens this process has looked up (`HUB_REMEMBER_VIEWERS`): their id and role
 * only. Remembering never lets a request skip the users table: a request of a remembered viewer
 * is confirmed inside its first statement (`ViewerConfirmation`), so a deleted user's token stops
 * working at the next request, on every process, with no notification to wait for.
 */
export class RememberedViewers {
  private readonly users = new BoundedMap<string, RememberedViewer>(REMEMBERED_VIEWERS);

  get(id: string): RememberedViewer | undefined {
    return this.users.get(id);
  }

  remember(user: RememberedViewer): void {
    this.users.set(user.id, { id: user.id, role: user.role });
  }

  forget(id: string): void {
    this.users.delete(id);
  }
}

/** Statements that can be wrapped as a sub-select (a data-modifying WITH cannot, and never reaches here: see `reads`). */
const WRAPPABLE = /^\s*(SELECT|WITH)\b/i;

/**
 * One request of a remembered viewer: the users table is read in the same statement as the
 * request's first read, not in one of its own. That read runs as
 * `SELECT * FROM (<read>) q WHERE EXISTS (<the viewer's row, same id and role>)`: an uncorrelated
 * condition PostgreSQL evaluates once, before any row (a one-time filter), in the read's own
 * snapshot. Rows back: the viewer existed, with that role, when the read ran. No rows: the read was
 * empty or the viewer is gone; a lookup of its own (`settle`) tells which. Reads sent while the
 * first one runs are not wrapped; the request's answer waits for the confirmation either way
 * (`settle`, called by the executor before any answer leaves), and a request that read nothing
 * pays for the lookup there. Writes confirm first (the executor calls `settle` before a mutation).
 */
export class ViewerConfirmation {
  private state: 'pending' | 'guarding' | 'confirmed' = 'pending';
  private lookup?: Promise<void>;

  constructor(
    private readonly primary: Queryable,
    private readonly viewer: RememberedViewer,
    private readonly remembered: RememberedViewers,
    private readonly onLookupFailure: (error: unknown) => void,
  ) {}

  get confirmed(): boolean {
    return this.state === 'confirmed';
  }

  /** A read of the request: the first one carries the confirmation (see the class). */
  async read<T>(db: Queryable, sql: string, params: unknown[] = []): Promise<T[]> {
    if (this.state !== 'pending' || !WRAPPABLE.test(sql)) return db.query<T>(sql, params);
    this.state = 'guarding';
    const n = params.length;
    const guarded = `SELECT * FROM (${sql}) hub_q WHERE EXISTS (SELECT 1 FROM users hub_v WHERE hub_v.id = $${n + 1}::uuid AND hub_v.role = $${n + 2})`;
    const rows = await db.query<T>(guarded, [...params, this.viewer.id, this.viewer.role]);
    if (rows.length > 0) {
      this.state = 'confirmed';
      return rows;
    }
    await this.settle();
    return rows;
  }

  /**
   * Resolves once the viewer is known to exist with the remembered role (by a guarded read or a
   * lookup of its own, made at most once); throws UNAUTHENTICATED otherwise (and forgets them),
   * or the coded 503 when the lookup cannot reach the database.
   */
  settle(): Promise<void> {
    if (this.state === 'confirmed') return Promise.resolve();
    return (this.lookup ??= this.lookUp());
  }

  private async lookUp(): Promise<void> {
    let user: UserModel | undefined;
    try {
      user = await tokenUser(this.primary, this.viewer.id);
    } catch (error) {
      if (error instanceof GraphQLError) throw error;
      this.onLookupFailure(error);
      throw unavailable();
    }
    if (user && user.role === this.viewer.role) {
      this.state = 'confirmed';
      return;
    }
    this.remembered.forget(this.viewer.id);
    // A role changed under a request that ran with the old one: its answer is dropped; the token
    // still works, and the next request looks the user up afresh.
    throw unauthenticated(user ? 'The bearer token’s user changed role during the request; send it again' : 'The bearer token belongs to no user');
  }
}
