import { randomBytes } from 'node:crypto';
import { Context } from '../context';
import { writeTransaction } from '../db/write-transaction';
import { badField } from '../errors';
import { lockSession, lockUploadQuota, lockViewer } from '../consistency/locks';
import { LimitExceeded, limitRefusal } from '../limits/requester-limits';
import { extensionFor, isAllowedContentType } from '../storage/content-type';
import { HttpHeader } from '../storage/audio-storage';
import { validateInput } from '../validation';
import { AudioUpload } from './audio-upload.entity';
import { CreateAudioUploadInput } from './audio-upload.inputs';

/** How long the upload URL is valid, and so how long the upload may take to be attached. */
export const AUDIO_UPLOAD_TTL_SECONDS = 3600;

const PENDING_BYTES = (max: number) => ({
  variable: 'HUB_AUDIO_MAX_PENDING_BYTES',
  max,
  what: 'bytes of unattached uploads (attach or let some expire first)',
  reason: 'PENDING_UPLOAD_BYTES',
});

export interface AudioUploadModel {
  key: string;
  uploadUrl: string;
  method: string;
  headers: HttpHeader[];
  expiresAt: Date;
}

/** `audio/<session id>/<128 random bits, hex>.<ext>`: chosen here, never by a client, and unguessable. */
function newKey(sessionId: string, contentType: string): string {
  return `audio/${sessionId.toLowerCase()}/${randomBytes(16).toString('hex')}.${extensionFor(contentType)}`;
}

/**
 * Lets the viewer upload one audio object into a live session they may change: records the
 * pending upload (owner, session, content type, exact size, expiry) and returns a signed URL the
 * client PUTs the bytes to, directly into the store, with the returned headers. Only this viewer
 * can later attach the key, to a message of this session (`postMessage`). The content type must
 * be one of `HUB_AUDIO_CONTENT_TYPES`, the size at most `HUB_AUDIO_MAX_BYTES` (BAD_USER_INPUT);
 * absent, soft-deleted or invisible session: NOT_FOUND; a viewer deleted meanwhile:
 * UNAUTHENTICATED. The declared bytes of the viewer's unattached, unexpired uploads, this one
 * included, stay within HUB_AUDIO_MAX_PENDING_BYTES, counted in the database under a per-viewer
 * lock so it holds across processes (else a limit refusal: BAD_USER_INPUT, HTTP 429,
 * `extensions.limit`).
 */
export async function createAudioUpload(ctx: Context, raw: Record<string, unknown>): Promise<AudioUploadModel> {
  const input = await validateInput(CreateAudioUploadInput, raw);
  if (!isAllowedContentType(input.contentType, ctx.config.audioContentTypes)) {
    throw badField('input.contentType', `must be one of ${ctx.config.audioContentTypes.join(', ')}`);
  }
  if (input.byteSize > ctx.config.audioMaxBytes) {
    throw badField('input.byteSize', `must be at most ${ctx.config.audioMaxBytes} bytes`);
  }
  const upload = await writeTransaction(ctx, async (manager) => {
    // First, before any row lock: one reservation per viewer at a time (the quota below).
    await lockUploadQuota(manager, ctx.viewer.id);
    // The row carries the viewer's id: the viewer is locked (or found gone) before it is written.
    await lockViewer(manager, ctx.viewer, input.sessionId);
    // Locked like every write into a session, so no upload lands in a session being purged.
    const { session } = await lockSession(manager, ctx.viewer, input.sessionId, 'live');
    const [{ pending }]: { pending: string }[] = await manager.query(
      `SELECT coalesce(sum(byte_size), 0) AS pending FROM audio_uploads
       WHERE user_id = $1 AND message_id IS NULL AND expires_at > now()`,
      [ctx.viewer.id],
    );
    try {
      ctx.limits.check(PENDING_BYTES(ctx.config.audioUploads.maxPendingBytes), Number(pending), input.byteSize);
    } catch (error) {
      throw error instanceof LimitExceeded ? limitRefusal(error, 'input.byteSize') : error;
    }
    // An insert, not a save: the key is new by construction, so no lookup of it first.
    const row = manager.create(AudioUpload, {
      key: newKey(session.id, input.contentType),
      userId: ctx.viewer.id,
      sessionId: session.id,
      contentType: input.contentType,
      byteSize: input.byteSize,
      // Whole seconds: the expiry signed into the URL is exactly the stored one.
      expiresAt: new Date((Math.floor(Date.now() / 1000) + AUDIO_UPLOAD_TTL_SECONDS) * 1000),
      completedAt: null,
      messageId: null,
    });
    await manager.insert(AudioUpload, row);
    return row;
  });
  const target = await ctx.storage.uploadTarget(upload);
  return { key: upload.key, uploadUrl: target.url, method: target.method, headers: target.headers, expiresAt: upload.expiresAt };
}
