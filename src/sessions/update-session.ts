import { Context } from '../context';
import { clearLoaders, writeTransaction } from '../db/write-transaction';
import { conflict } from '../errors';
import { validateInput } from '../validation';
import { nested } from '../common/id.inputs';
import { lockSession, reloadSession } from './lock-session';
import { Session } from './session.entity';
import { UpdateSessionArgs, UpdateSessionInput } from './session.inputs';

/**
 * Changes a live session's title and increments its `version` (the only write that does). With
 * `expectedVersion`, the change applies only while the version still equals it (CONFLICT
 * otherwise); the check and the write happen under the session's row lock, so of two editors
 * holding the same version exactly one wins. Absent, soft-deleted or invisible: NOT_FOUND.
 */
export async function updateSession(ctx: Context, props: { id: string; input: unknown }): Promise<Session> {
  const args = await validateInput(UpdateSessionArgs, { id: props.id, input: nested(UpdateSessionInput, props.input) }, '');
  const { title, expectedVersion } = args.input;
  const session = await writeTransaction(ctx, async (manager) => {
    const current = await lockSession(manager, ctx.viewer, args.id, 'live');
    if (expectedVersion != null && expectedVersion !== current.version) {
      throw conflict(`Session ${current.id} is at version ${current.version}, not ${expectedVersion}: reload and retry`);
    }
    if (typeof title === 'string') current.title = title.trim();
    current.version += 1;
    await manager.save(current);
    return reloadSession(manager, current.id);
  });
  clearLoaders(ctx.loaders);
  ctx.loaders.sessionById.prime(session.id, session);
  return session;
}
