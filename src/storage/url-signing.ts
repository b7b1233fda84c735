import { createHmac, timingSafeEqual } from 'node:crypto';

/** How long a signed audio URL stays valid, and the step its expiry is rounded up to, so the
 * URLs handed out within one step are identical (cacheable) and still valid for at least the TTL. */
export const AUDIO_URL_TTL_SECONDS = 3600;
const EXPIRY_STEP_SECONDS = 300;

/**
 * HMAC-SHA256 signatures for audio URLs. The key is derived from the JWT secret with a purpose
 * label, so a URL signature can never be replayed as a token signature or the other way round.
 */
export class UrlSigner {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = createHmac('sha256', secret).update('hub-audio-url-signing-v1').digest();
  }

  private mac(key: string, expires: number): string {
    return createHmac('sha256', this.key).update(`${key}\n${expires}`).digest('base64url');
  }

  sign(key: string, now = Date.now()): { expires: number; signature: string } {
    const expires = Math.ceil((now / 1000 + AUDIO_URL_TTL_SECONDS) / EXPIRY_STEP_SECONDS) * EXPIRY_STEP_SECONDS;
    return { expires, signature: this.mac(key, expires) };
  }

  /** True when `signature` is this signer's for the key and the expiry has not passed. */
  verify(key: string, expires: unknown, signature: unknown, now = Date.now()): boolean {
    if (typeof expires !== 'string' || !/^\d{1,12}$/.test(expires) || typeof signature !== 'string') return false;
    const at = Number(expires);
    if (at * 1000 <= now) return false;
    const expected = Buffer.from(this.mac(key, at));
    const given = Buffer.from(signature);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
