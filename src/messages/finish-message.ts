import { Context } from '../context';
import { nested } from '../common/id.inputs';
import { answerWith } from '../consistency/prime-after-write';
import { lockMessage } from '../consistency/locks';
import { writeTransaction } from '../db/write-transaction';
import { notFound } from '../errors';
import { validateInput } from '../validation';
import { Message } from './message.entity';
import { FinishMessageArgs, TokenUsageInput } from './message.inputs';
import { usageColumns } from './message-usage';
import { assertStreaming, stampOnSessionClock } from './streaming';

/**
 * Ends a STREAMING message of a live session the viewer may change, once: COMPLETE or FAILED,
 * with the token usage reported (none given: none recorded). Locked like an append (session, then
 * message), so it cannot interleave with one: an append after it conflicts. Stamped on the
 * session's message clock and moves the session's `updatedAt`. Errors: NOT_FOUND (absent,
 * deleted, in a soft-deleted or purged session, invisible), CONFLICT (not STREAMING:
 * `extensions.status`), BAD_USER_INPUT (status STREAMING, bad usage).
 */
export async function finishMessage(ctx: Context, raw: Record<string, unknown>): Promise<Message> {
  const args = await validateInput(FinishMessageArgs, { ...raw, usage: nested(TokenUsageInput, raw?.usage) }, '');
  const written = await writeTransaction(ctx, async (manager) => {
    const locked = await lockMessage(manager, ctx.viewer, args.id);
    const { message } = locked;
    if (message.deletedAt) throw notFound('Message', args.id);
    assertStreaming(message);
    message.status = args.status;
    if (args.usage) Object.assign(message, usageColumns(args.usage));
    stampOnSessionClock(message);
    await manager.save(message);
    return locked;
  });
  answerWith(ctx.loaders, written);
  return written.message;
}
