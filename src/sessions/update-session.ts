import { Context } from '../context';
import { answerWith } from '../consistency/prime-after-write';
import { lockSession } from '../consistency/locks';
import { writeTransaction } from '../db/write-transaction';
import { conflict } from '../errors';
import { validateInput } from '../validation';
import { nested } from '../common/id.inputs';
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
  const written = await writeTransaction(ctx, async (manager) => {
    const locked = await lockSession(manager, ctx.viewer, args.id, 'live');
    const { session } = locked;
    if (expectedVersion != null && expectedVersion !== session.version) {
      throw conflict(`Session ${session.id} is at version ${session.version}, not ${expectedVersion}: reload and retry`);
    }
    if (typeof title === 'string') session.title = title;
    session.version += 1;
    await manager.save(session);
    return locked;
  });
  answerWith(ctx.loaders, written);
  return written.session;
}
