import { Context } from '../context';
import { answerWith } from '../consistency/prime-after-write';
import { validateInput } from '../validation';
import { appendQueueOf } from './append-queue';
import { Message } from './message.entity';
import { AppendMessageContentArgs } from './message.inputs';

/**
 * Appends `delta` to a STREAMING message of a live session the viewer may change, exactly when
 * `offset` is the content's current length in characters (code points): a retried append
 * conflicts instead of applying twice, and an append past the end cannot open a gap. The session
 * and then the message are locked in one statement (the lock order), so appends to one session
 * take turns and the length checked is the length extended. The change is stamped on the
 * session's message clock (its place among the session's changes, `messageChanged`) and moves
 * the session's `updatedAt`. Appends that arrive while others commit are committed together,
 * each checked and answered on its own (src/messages/append-queue.ts). Errors: NOT_FOUND
 * (absent, deleted, in a soft-deleted or purged session, invisible), CONFLICT (not STREAMING:
 * `extensions.status`; another offset: `extensions.length`), BAD_USER_INPUT (the content would
 * pass 32,000 characters).
 */
export async function appendMessageContent(ctx: Context, raw: Record<string, unknown>): Promise<Message> {
  const { id, delta, offset } = await validateInput(AppendMessageContentArgs, raw, '');
  const written = await appendQueueOf(ctx.dataSource).append(ctx, { viewer: ctx.viewer, id, delta, offset });
  answerWith(ctx.loaders, written);
  return written.message;
}
