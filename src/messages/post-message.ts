import { attachAudioUpload, claimAudioUpload } from '../audio-uploads/attach-audio-upload';
import { Context } from '../context';
import { nested } from '../common/id.inputs';
import { answerWith } from '../consistency/prime-after-write';
import { lockSession } from '../consistency/locks';
import { writeTransaction } from '../db/write-transaction';
import { validateInput } from '../validation';
import { Message, MessageStatus } from './message.entity';
import { AudioInput, PostMessageInput, TokenUsageInput } from './message.inputs';
import { usageColumns } from './message-usage';

/**
 * Posts a message to a live session the viewer may change, with an optional audio attachment
 * referenced by its storage-neutral key (never a path or URL), and moves the session's
 * `updatedAt` (message subscriber). The session is locked for the transaction, so a message can
 * never land in a session being deleted, and the answer (the message and its `session`) is what
 * the transaction wrote, even if the session is deleted right after the commit. Absent,
 * soft-deleted or invisible session: NOT_FOUND. The audio key must be the viewer's own completed
 * upload to this session (`createAudioUpload`), not yet attached; any other key is
 * BAD_USER_INPUT on `input.audio.key` (see claimAudioUpload). Posted `STREAMING`, the message
 * grows with `appendMessageContent` until `finishMessage` ends it.
 */
export async function postMessage(ctx: Context, raw: Record<string, unknown>): Promise<Message> {
  const input = await validateInput(PostMessageInput, { ...raw, audio: nested(AudioInput, raw?.audio), usage: nested(TokenUsageInput, raw?.usage) });
  const written = await writeTransaction(ctx, async (manager) => {
    const { session, owner } = await lockSession(manager, ctx.viewer, input.sessionId, 'live');
    const upload = input.audio && (await claimAudioUpload(manager, { viewerId: ctx.viewer.id, storage: ctx.storage }, session.id, input.audio));
    const message = await manager.save(
      manager.create(Message, {
        sessionId: session.id,
        role: input.role,
        content: input.content,
        audioKey: input.audio?.key ?? null,
        audioContentType: input.audio?.contentType ?? null,
        audioByteSize: input.audio?.byteSize ?? null,
        status: input.status ?? MessageStatus.COMPLETE,
        ...usageColumns(input.usage),
      }),
    );
    if (upload) await attachAudioUpload(manager, upload, message.id);
    return { message, session, owner };
  });
  answerWith(ctx.loaders, written);
  return written.message;
}
