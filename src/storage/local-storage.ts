import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { keyPath } from './audio-key';
import { AudioStorage, StoredObject, UploadRequest, UploadTarget } from './audio-storage';
import { UrlSigner } from './url-signing';

const BODY_ERRORS = {
  'too-large': 'the body is larger than the declared size',
  incomplete: 'the body ended before the declared size',
  'too-slow': 'the body arrived slower than the minimum upload rate (HUB_AUDIO_MIN_UPLOAD_RATE)',
  'in-progress': 'another body for this upload URL is being received; one at a time',
} as const;

/** Why received bytes were refused: more than declared, short, too slow, or a second body for the key. */
export class UploadBodyError extends Error {
  constructor(readonly reason: keyof typeof BODY_ERRORS) {
    super(BODY_ERRORS[reason]);
  }
}

/** How slowly a body may arrive: at least `minBytesPerSecond × stallSeconds` bytes (or the rest)
 * in every window of `stallSeconds`. */
export interface BodyPace {
  minBytesPerSecond: number;
  stallSeconds: number;
}

export const DEFAULT_BODY_PACE: BodyPace = { minBytesPerSecond: 1024, stallSeconds: 10 };

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
 * object's content type sits next to it under `.meta/`; uploads are staged under `.staging/`,
 * one file per key, so one body per upload URL is received at a time (across processes sharing
 * the directory), at no less than the `BodyPace`. Keys cannot name either directory (no key
 * segment starts with a dot).
 */
export class LocalAudioStorage implements AudioStorage {
  readonly root: string;

  constructor(
    root: string,
    private readonly baseUrl: string,
    readonly signer: UrlSigner,
    readonly pace: BodyPace = DEFAULT_BODY_PACE,
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

  /** A staging file untouched this long has no live writer: every window of a live body writes. */
  private get abandonedAfterMs(): number {
    return 2 * this.pace.stallSeconds * 1000;
  }

  /** Opens the key's staging file for a new body, or refuses while another body is being written
   * to it; a file abandoned by a dead writer (a killed process) is taken over. */
  private async openStaging(temp: string): Promise<ReturnType<typeof createWriteStream>> {
    for (let attempt = 0; ; attempt += 1) {
      // `flush`: the bytes are on disk before the rename makes them visible.
      const out = createWriteStream(temp, { flags: 'wx', flush: true });
      try {
        await once(out, 'open');
        return out;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
        const stat = await fs.stat(temp).catch(() => null);
        if (stat && Date.now() - stat.mtimeMs < this.abandonedAfterMs) throw new UploadBodyError('in-progress');
        await fs.rm(temp, { force: true });
      }
    }
  }

  /**
   * Streams a request body into the key's staging file: exactly `byteSize` bytes or an
   * `UploadBodyError` (the stream is cut at the first byte too many, so nothing larger is ever
   * buffered or written; cut too when a stall window brings less than the pace asks; refused
   * before a byte is read while another body for the key is being received). Nothing is visible
   * under the key until `commit`; on any failure the staging file is gone. The body is only
   * unpiped on failure, never destroyed, so the caller can still answer on its connection.
   */
  async receive(key: string, body: Readable, expected: { contentType: string; byteSize: number }): Promise<StagedObject> {
    const staging = path.join(this.root, '.staging');
    await fs.mkdir(staging, { recursive: true });
    const temp = path.join(staging, createHash('sha256').update(key).digest('hex'));
    const out = await this.openStaging(temp).catch((error: unknown) => {
      throw error instanceof UploadBodyError ? error : new UploadBodyError('incomplete');
    });
    const seen = { bytes: 0 };
    const discard = async () => {
      await Promise.all([fs.rm(temp, { force: true }), fs.rm(`${temp}.type`, { force: true })]);
    };
    const counter = byteCap(expected.byteSize, seen);
    const windowBytes = this.pace.minBytesPerSecond * this.pace.stallSeconds;
    let mark = 0;
    const pace = setInterval(() => {
      if (seen.bytes - mark < Math.min(windowBytes, expected.byteSize - mark)) counter.destroy(new UploadBodyError('too-slow'));
      mark = seen.bytes;
    }, this.pace.stallSeconds * 1000);
    let ended = false;
    const onEnd = () => (ended = true);
    const onClose = () => ended || counter.destroy(new UploadBodyError('incomplete'));
    body.once('end', onEnd).once('close', onClose);
    try {
      const written = pipeline(counter, out);
      body.pipe(counter);
      await written;
    } catch (error) {
      body.unpipe(counter);
      await discard();
      throw error instanceof UploadBodyError ? error : new UploadBodyError('incomplete');
    } finally {
      clearInterval(pace);
      body.off('end', onEnd).off('close', onClose);
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

  /**
   * Removes staging files no live body is writing (untouched for two stall windows: killed
   * uploads, crashed processes); safe while other processes receive into the same directory.
   * Returns how many it removed.
   */
  async sweepStaging(now = Date.now()): Promise<number> {
    const staging = path.join(this.root, '.staging');
    const names = await fs.readdir(staging).catch(() => [] as string[]);
    let removed = 0;
    for (const name of names) {
      const file = path.join(staging, name);
      const stat = await fs.stat(file).catch(() => null);
      if (stat && now - stat.mtimeMs >= this.abandonedAfterMs) {
        await fs.rm(file, { force: true, recursive: true });
        removed += 1;
      }
    }
    return removed;
  }

  async remove(keys: string[]): Promise<void> {
    await Promise.all(
      keys.flatMap((key) => [fs.rm(this.fileOf(key), { force: true }), fs.rm(this.typeFileOf(key), { force: true })]),
    );
  }
}
