/**
 * The shape of a storage-neutral object key: lowercase letters, digits and `/ . _ -`, segments
 * separated by single slashes, no leading or trailing slash, no `..`, at most 512 characters.
 * It is a key, never a path or URL (a scheme would need `:`), so every driver can map it safely.
 */
export const AUDIO_KEY_MAX_LENGTH = 512;
const SHAPE = /^[a-z0-9._-]+(\/[a-z0-9._-]+)*$/;

export function isAudioKey(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length <= AUDIO_KEY_MAX_LENGTH &&
    SHAPE.test(value) &&
    !value.includes('..') &&
    !value.split('/').includes('.')
  );
}
