import { createHmac, timingSafeEqual } from 'node:crypto';

/** How long a signed audio URL stays valid, and the step its expiry is rounded up to, so the
 * URLs handed out within one step are identical (cacheable) and still valid for at least the TTL. */
export const AUDIO_URL_TTL_SECONDS = 3600;
export const EXPIRY_STEP_SECONDS = 300;

/** What an upload URL's signature binds: the PUT of exactly these bytes' type and size to this key. */
export interface UploadGrant {
  key: string;
  contentType: string;
  byteSize: number;
  /** Unix seconds. */
  expires: number;
}

function equal(given: string, expected: string): boolean {
  const [a, b] = [Buffer.from(given), Buffer.from(expected)];
  return a.length === b.length && timingSafeEqual(a, b);
}

function expiryOf(expires: unknown, now: number): number | undefined {
  if (typeof expires !== 'string' || !/^\d{1,12}$/.test(expires)) return undefined;
  const at = Number(expires);
  return at * 1000 > now ? at : undefined;
}

/**
 * HMAC-SHA256 signatures for the local driver's URLs. Each purpose (download, upload) has its
 * own key derived from the JWT secret with a label, so a download signature can never be replayed
 * as an upload signature, a token signature, or the other way round.
 */
export class UrlSigner {
  private readonly downloadKey: Buffer;
  private readonly uploadKey: Buffer;

  constructor(secret: string) {
    this.downloadKey = createHmac('sha256', secret).update('hub-audio-url-signing-v1').digest();
    this.uploadKey = createHmac('sha256', secret).update('hub-audio-upload-signing-v1').digest();
  }

  private mac(key: string, expires: number): string {
    return createHmac('sha256', this.downloadKey).update(`${key}\n${expires}`).digest('base64url');
  }

  private uploadMac(grant: UploadGrant): string {
    // Content type last: it is the only part that could hold a newline-free but arbitrary string.
    return createHmac('sha256', this.uploadKey)
      .update(`PUT\n${grant.key}\n${grant.byteSize}\n${grant.expires}\n${grant.contentType}`)
      .digest('base64url');
  }

  sign(key: string, now = Date.now()): { expires: number; signature: string } {
    const expires = Math.ceil((now / 1000 + AUDIO_URL_TTL_SECONDS) / EXPIRY_STEP_SECONDS) * EXPIRY_STEP_SECONDS;
    return { expires, signature: this.mac(key, expires) };
  }

  /** True when `signature` is this signer's for the key and the expiry has not passed. */
  verify(key: string, expires: unknown, signature: unknown, now = Date.now()): boolean {
    const at = expiryOf(expires, now);
    return at !== undefined && typeof signature === 'string' && equal(signature, this.mac(key, at));
  }

  signUpload(grant: UploadGrant): string {
    return this.uploadMac(grant);
  }

  /**
   * Checks an upload request: `signed` when the signature matches the key, the request's
   * content type and length and the expiry in the URL; `expired` when it matches but the expiry
   * has passed (told apart only for a genuine signature, so nothing is learnt by guessing).
   */
  verifyUpload(
    request: { key: string; contentType: unknown; byteSize: number; expires: unknown; signature: unknown },
    now = Date.now(),
  ): 'signed' | 'expired' | 'invalid' {
    const { expires, signature, contentType } = request;
    if (typeof expires !== 'string' || !/^\d{1,12}$/.test(expires) || typeof signature !== 'string' || typeof contentType !== 'string') {
      return 'invalid';
    }
    const grant = { key: request.key, contentType, byteSize: request.byteSize, expires: Number(expires) };
    if (!equal(signature, this.uploadMac(grant))) return 'invalid';
    return grant.expires * 1000 > now ? 'signed' : 'expired';
  }
}
