/**
 * Audio content types: an `audio/<subtype>` MIME type, optionally with parameters
 * (`audio/ogg; codecs=opus`), at most 127 characters. The allow-list (`HUB_AUDIO_CONTENT_TYPES`)
 * names base types (`audio/ogg`) or `audio/*`; parameters never widen what is allowed.
 */
export const AUDIO_CONTENT_TYPE_MAX_LENGTH = 127;
export const AUDIO_CONTENT_TYPE = /^audio\/[a-z0-9][a-z0-9!#$&^_.+-]*(\s*;\s*[a-z0-9_.-]+=[a-z0-9_.+-]+)*$/i;

export function isAudioContentType(value: unknown): value is string {
  return typeof value === 'string' && value.length <= AUDIO_CONTENT_TYPE_MAX_LENGTH && AUDIO_CONTENT_TYPE.test(value);
}

/** `audio/OGG; codecs=opus` → `audio/ogg`. */
export function baseContentType(value: string): string {
  return value.split(';')[0].trim().toLowerCase();
}

export function isAllowedContentType(value: string, allowed: readonly string[]): boolean {
  const base = baseContentType(value);
  return allowed.includes('audio/*') ? base.startsWith('audio/') : allowed.includes(base);
}

const EXTENSIONS: Record<string, string> = {
  'audio/aac': 'aac',
  'audio/flac': 'flac',
  'audio/x-flac': 'flac',
  'audio/mp4': 'm4a',
  'audio/x-m4a': 'm4a',
  'audio/mpeg': 'mp3',
  'audio/mp3': 'mp3',
  'audio/ogg': 'ogg',
  'audio/opus': 'opus',
  'audio/wav': 'wav',
  'audio/wave': 'wav',
  'audio/x-wav': 'wav',
  'audio/webm': 'webm',
};

/** A file extension for object keys (operators browsing a bucket see what a key holds); `bin` if unknown. */
export function extensionFor(contentType: string): string {
  return EXTENSIONS[baseContentType(contentType)] ?? 'bin';
}
