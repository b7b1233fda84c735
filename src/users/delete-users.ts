import { Context } from '../context';
import { distinct } from '../ids';
import { answerWith } from '../consistency/prime-after-write';
import { lockUsers } from '../consistency/locks';
import { writeTransaction } from '../db/write-transaction';
import { forbidden } from '../errors';
import { validateInput } from '../validation';
import { DeleteUsersArgs } from './user.inputs';

/**
 * Hard-deletes up to 100 users with everything they own (sessions, messages, skill links, node
 * sync rows, purged audio after commit), in one transaction and a handful of set-based
 * statements (`purgeSessionsOfUsers`). The users are locked first, then their sessions (the lock
 * order). ADMIN only. Unknown ids are ignored and not counted.
 */
export async function deleteUsers(ctx: Context, props: { ids: string[] }): Promise<{ deletedCount: number }> {
  if (!ctx.viewer.isAdmin) throw forbidden();
  const { ids } = await validateInput(DeleteUsersArgs, props, '');
  const wanted = distinct(ids);
  if (wanted.length === 0) return { deletedCount: 0 };
  const deleted = await writeTransaction(ctx, async (manager) => {
    const users = await lockUsers(manager, wanted);
    if (users.length > 0) await manager.remove(users);
    return users.length;
  });
  answerWith(ctx.loaders, {});
  return { deletedCount: deleted };
}
