import { EntityManager } from 'typeorm';
import { lockUpload } from '../consistency/locks';
import { badField } from '../errors';
import { AudioStorage } from '../storage/audio-storage';
import { AudioUpload } from './audio-upload.entity';

export interface ClaimedAudio {
  key: string;
  contentType: string;
  byteSize: number;
}

/** The one answer to every refused key: whether it is someone else's, guessed, expired or
 * mismatched is not told apart, so a key's existence never leaks. */
function refused() {
  return badField(
    'input.audio.key',
    'must be the key of your own completed upload to this session, not yet attached, with this content type and byte size',
  );
}

/**
 * Checks that `audio` names an upload the viewer may attach to a new message of `sessionId`,
 * and locks its row for the caller's transaction (so two messages racing for one key are
 * serialized and exactly one gets it): made by this viewer for this session, not yet attached,
 * not expired, with this content type and size, and its object present in the store with that
 * size and type (a HEAD: the store is asked, the client is not believed). Anything else is
 * BAD_USER_INPUT on `input.audio.key`, the same for every reason. Call after locking the session.
 */
export async function claimAudioUpload(
  manager: EntityManager,
  deps: { viewerId: string; storage: AudioStorage },
  sessionId: string,
  audio: ClaimedAudio,
): Promise<AudioUpload> {
  const upload = await lockUpload(manager, audio.key);
  const acceptable =
    upload &&
    upload.userId === deps.viewerId &&
    upload.sessionId === sessionId &&
    upload.messageId === null &&
    upload.expiresAt.getTime() > Date.now() &&
    upload.contentType === audio.contentType &&
    upload.byteSize === audio.byteSize;
  if (!acceptable) throw refused();
  const stored = await deps.storage.head(upload.key);
  if (!stored || stored.byteSize !== upload.byteSize || stored.contentType !== upload.contentType) throw refused();
  return upload;
}

/** Binds a claimed upload to the message that now holds its key; from here on it lives and dies with it. */
export async function attachAudioUpload(manager: EntityManager, upload: AudioUpload, messageId: string): Promise<void> {
  upload.messageId = messageId;
  upload.completedAt ??= new Date();
  await manager.save(upload);
}
