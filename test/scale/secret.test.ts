import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { jwtSecret } from '../../src/auth/secret';
import { loadConfig } from '../../src/config';

describe('the generated development secret', () => {
  it('is one secret however many starts race to create it (20 rounds of 8 at once)', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'hub-secret-'));
    try {
      for (let round = 0; round < 20; round += 1) {
        const config = loadConfig({ HUB_DATA_DIR: path.join(root, `round-${round}`) });
        const secrets = await Promise.all(Array.from({ length: 8 }, () => jwtSecret(config)));
        expect(new Set(secrets).size).toBe(1);
        expect(secrets[0]).toMatch(/^[\w-]{64}$/);
        expect((await fs.readFile(path.join(config.dataDir, 'jwt-secret'), 'utf8')).trim()).toBe(secrets[0]);
        // No candidate file is left behind.
        expect(await fs.readdir(config.dataDir)).toEqual(['jwt-secret']);
        expect(await jwtSecret(config)).toBe(secrets[0]);
      }
    } finally {
      await fs.rm(root, { recursive: true, force: true });
    }
  });
});
