/**
 * The shape of a storage-neutral object key: lowercase letters, digits and `/ . _ -`, segments
 * separated by single slashes, each starting with a letter or digit (so no `.`/`..` segment and no
 * hidden name: the local driver keeps its staging and metadata under dot-directories no key can
 * name), no leading or trailing slash, at most 512 characters. It is a key, never a path or URL
 * (a scheme would need `:`), so every driver can map it safely.
 */
export const AUDIO_KEY_MAX_LENGTH = 512;
const SHAPE = /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/;

export function isAudioKey(value: unknown): value is string {
  return typeof value === 'string' && value.length <= AUDIO_KEY_MAX_LENGTH && SHAPE.test(value) && !value.includes('..');
}

/** A key as a URL path: each segment percent-encoded (keys need none today; this keeps it so). */
export function keyPath(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}
