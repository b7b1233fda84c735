import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { keyPath } from './audio-key';
import { AudioStorage, StoredObject, UploadRequest, UploadTarget } from './storage';
import { UrlSigner } from './url-signing';

/** Why received bytes were refused: more than declared, or the body ended (or broke) short. */
export class UploadBodyError extends Error {
  constructor(readonly reason: 'too-large' | 'incomplete') {
    super(reason === 'too-large' ? 'the body is larger than the declared size' : 'the body ended before the declared size');
  }
}

/** Bytes received into a staging file, not yet visible under their key. */
export interface StagedObject {
  /** Moves the bytes (and their content type) under the key, atomically (a rename). */
  commit(): Promise<void>;
  /** Removes the staging file; a no-op after `commit`. */
  discard(): Promise<void>;
}

/** Counts bytes on their way to disk and fails the stream at the first byte past the limit. */
function byteCap(limit: number, seen: { bytes: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen.bytes += chunk.length;
      done(seen.bytes > limit ? new UploadBodyError('too-large') : null, chunk);
    },
  });
}

/**
 * Objects as files under one directory, served by this server at `<publicUrl>/audio/<key>` with
 * an expiring HMAC signature (see `audioHandler`), so a URL leaks one object for a bounded time;
 * uploads are PUT to the same path with their own signature (see src/audio-uploads). Each
 * object's content type sits next to it under `.meta/`; uploads are staged under `.staging/`.
 * Keys cannot name either directory (no key segment starts with a dot).
 */
export class LocalAudioStorage implements AudioStorage {
  readonly root: string;

  constructor(
    root: string,
    private readonly baseUrl: string,
    readonly signer: UrlSigner,
  ) {
    this.root = path.resolve(root);
  }

  async url(key: string): Promise<string> {
    const { expires, signature } = this.signer.sign(key);
    return `${this.baseUrl}/${keyPath(key)}?expires=${expires}&signature=${signature}`;
  }

  async uploadTarget(request: UploadRequest): Promise<UploadTarget> {
    const expires = Math.floor(request.expiresAt.getTime() / 1000);
    const signature = this.signer.signUpload({ key: request.key, contentType: request.contentType, byteSize: request.byteSize, expires });
    return {
      url: `${this.baseUrl}/${keyPath(request.key)}?expires=${expires}&signature=${signature}`,
      method: 'PUT',
      headers: [
        { name: 'Content-Type', value: request.contentType },
        { name: 'Content-Length', value: String(request.byteSize) },
      ],
    };
  }

  /** The file of a key, never outside the root (keys are validated, this is the second fence). */
  fileOf(key: string): string {
    const file = path.resolve(this.root, key);
    if (!file.startsWith(this.root + path.sep)) throw new Error(`object key escapes the storage root: ${key}`);
    return file;
  }

  private typeFileOf(key: string): string {
    return path.join(this.root, '.meta', `${path.relative(this.root, this.fileOf(key))}.type`);
  }

  async head(key: string): Promise<StoredObject | null> {
    const stat = await fs.stat(this.fileOf(key)).catch(() => null);
    if (!stat?.isFile()) return null;
    const contentType = await fs.readFile(this.typeFileOf(key), 'utf8').catch(() => null);
    return { byteSize: stat.size, contentType };
  }

  /**
   * Streams a request body into a staging file: exactly `byteSize` bytes or an `UploadBodyError`
   * (the stream is cut at the first byte too many, so nothing larger is ever buffered or written).
   * Nothing is visible under the key until `commit`; on any failure the staging file is gone.
   */
  async receive(key: string, body: Readable, expected: { contentType: string; byteSize: number }): Promise<StagedObject> {
    const staging = path.join(this.root, '.staging');
    await fs.mkdir(staging, { recursive: true });
    const temp = path.join(staging, randomBytes(16).toString('hex'));
    const seen = { bytes: 0 };
    const discard = async () => {
      await Promise.all([fs.rm(temp, { force: true }), fs.rm(`${temp}.type`, { force: true })]);
    };
    try {
      // `flush`: the bytes are on disk before the rename makes them visible.
      await pipeline(body, byteCap(expected.byteSize, seen), createWriteStream(temp, { flags: 'wx', flush: true }));
    } catch (error) {
      await discard();
      throw error instanceof UploadBodyError ? error : new UploadBodyError('incomplete');
    }
    if (seen.bytes !== expected.byteSize) {
      await discard();
      throw new UploadBodyError('incomplete');
    }
    return {
      commit: async () => {
        const [file, typeFile] = [this.fileOf(key), this.typeFileOf(key)];
        await fs.mkdir(path.dirname(file), { recursive: true });
        await fs.mkdir(path.dirname(typeFile), { recursive: true });
        const typeTemp = `${temp}.type`;
        await fs.writeFile(typeTemp, expected.contentType, { flush: true });
        await fs.rename(typeTemp, typeFile);
        await fs.rename(temp, file);
      },
      discard,
    };
  }

  async remove(keys: string[]): Promise<void> {
    await Promise.all(
      keys.flatMap((key) => [fs.rm(this.fileOf(key), { force: true }), fs.rm(this.typeFileOf(key), { force: true })]),
    );
  }
}
