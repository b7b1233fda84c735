import fs from 'node:fs/promises';
import path from 'node:path';
import { AudioStorage } from './storage';
import { UrlSigner } from './url-signing';

/**
 * Objects as files under one directory, served by this server at `<publicUrl>/audio/<key>` with
 * an expiring HMAC signature (see `audioHandler`), so a URL leaks one object for a bounded time.
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

  url(key: string): string {
    const { expires, signature } = this.signer.sign(key);
    return `${this.baseUrl}/${key.split('/').map(encodeURIComponent).join('/')}?expires=${expires}&signature=${signature}`;
  }

  /** The file of a key, never outside the root (keys are validated, this is the second fence). */
  fileOf(key: string): string {
    const file = path.resolve(this.root, key);
    if (!file.startsWith(this.root + path.sep)) throw new Error(`object key escapes the storage root: ${key}`);
    return file;
  }

  async remove(keys: string[]): Promise<void> {
    await Promise.all(keys.map((key) => fs.rm(this.fileOf(key), { force: true })));
  }
}
