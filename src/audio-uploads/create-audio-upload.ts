import { randomBytes } from 'node:crypto';
import { Context } from '../context';
import { writeTransaction } from '../db/write-transaction';
import { badField } from '../errors';
import { lockSession } from '../consistency/locks';
import { extensionFor, isAllowedContentType } from '../storage/content-type';
import { HttpHeader } from '../storage/storage';
import { validateInput } from '../validation';
import { AudioUpload } from './audio-upload.entity';
import { CreateAudioUploadInput } from './audio-upload.inputs';

/** How long the upload URL is valid, and so how long the upload may take to be attached. */
export const AUDIO_UPLOAD_TTL_SECONDS = 3600;

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
 * absent, soft-deleted or invisible session: NOT_FOUND.
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
    // Locked like every write into a session, so no upload lands in a session being purged.
    const { session } = await lockSession(manager, ctx.viewer, input.sessionId, 'live');
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
