import { In } from 'typeorm';
import { Context } from '../context';
import { distinct } from '../ids';
import { clearLoaders, writeTransaction } from '../db/write-transaction';
import { forbidden } from '../errors';
import { validateInput } from '../validation';
import { User } from './user.entity';
import { DeleteUsersArgs } from './user.inputs';

/**
 * Hard-deletes up to 100 users with everything they own (sessions, messages, skill links, node
 * sync rows, purged audio after commit), in one transaction and a handful of set-based
 * statements (the user subscriber's cascade). ADMIN only. Unknown ids are ignored and not counted.
 */
export async function deleteUsers(ctx: Context, props: { ids: string[] }): Promise<{ deletedCount: number }> {
  if (!ctx.viewer.isAdmin) throw forbidden();
  const { ids } = await validateInput(DeleteUsersArgs, props, '');
  const wanted = distinct(ids);
  if (wanted.length === 0) return { deletedCount: 0 };
  const deleted = await writeTransaction(ctx, async (manager) => {
    const users = await manager.find(User, { where: { id: In(wanted) }, order: { id: 'ASC' }, lock: { mode: 'pessimistic_write' } });
    if (users.length > 0) await manager.remove(users);
    return users.length;
  });
  clearLoaders(ctx.loaders);
  return { deletedCount: deleted };
}
