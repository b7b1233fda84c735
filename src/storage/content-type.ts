/**
 * Audio content types, in RFC 9110's media-type syntax (§8.3.1) and nothing wider:
 * `audio/<subtype>` followed by `;`-separated parameters whose values are tokens or quoted
 * strings, at most 127 characters, ASCII only. Whitespace is only the space or tab RFC 9110
 * allows around `;` (no line breaks, no U+2028, no NBSP: a value with any of them cannot be sent
 * back as the upload's `Content-Type` header), and never at the ends (HTTP strips it there, which
 * would change the signed value). The subtype keeps RFC 6838's stricter registration shape, so
 * `audio/*` is a pattern, not a type. The allow-list (`HUB_AUDIO_CONTENT_TYPES`) names base types
 * (`audio/ogg`) or `audio/*`; parameters never widen what is allowed.
 */
export const AUDIO_CONTENT_TYPE_MAX_LENGTH = 127;
const TOKEN = "[!#$%&'*+.^_`|~0-9a-z-]+";
const QUOTED_STRING = '"(?:[\\t !#-\\[\\]-~]|\\\\[\\t -~])*"';
const OWS = '[ \\t]*';
const SUBTYPE = '[a-z0-9][a-z0-9!#$&^_.+-]*';
export const AUDIO_CONTENT_TYPE = new RegExp(`^audio/${SUBTYPE}(?:${OWS};${OWS}${TOKEN}=(?:${TOKEN}|${QUOTED_STRING}))*$`, 'i');

export function isAudioContentType(value: unknown): value is string {
  return typeof value === 'string' && value.length <= AUDIO_CONTENT_TYPE_MAX_LENGTH && AUDIO_CONTENT_TYPE.test(value);
}

/** The type a stored object is served with: its own when it is an audio type by the rule above,
 * otherwise opaque bytes (objects from before the rule, or a store that lost the type). */
export function servedContentType(stored: string | null): string {
  return stored !== null && isAudioContentType(stored) ? stored : 'application/octet-stream';
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
