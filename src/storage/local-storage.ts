import fs from 'node:fs/promises';
import path from 'node:path';
import { AudioStorage } from './storage';

/** Objects as files under one directory, served by the server at `<publicUrl>/audio/<key>`. */
export class LocalAudioStorage implements AudioStorage {
  constructor(
    readonly root: string,
    private readonly baseUrl: string,
  ) {}

  url(key: string): string {
    return `${this.baseUrl}/${key.split('/').map(encodeURIComponent).join('/')}`;
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
