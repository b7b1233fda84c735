import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Config } from '../config';

/**
 * The HS256 secret: `HUB_JWT_SECRET`, or outside production one generated on first use and
 * kept under the data dir, so tokens survive restarts. Processes starting together (workers,
 * several `hub serve`) all end up with the same secret: each writes its candidate to a file of
 * its own and hard-links it into place, which fails when another got there first; then every
 * process reads back the one file that won. A reader never sees a half-written secret, because
 * the file only appears under its name once complete.
 */
export async function jwtSecret(config: Config): Promise<string> {
  if (config.jwtSecret) return config.jwtSecret;
  if (config.production) throw new Error('HUB_JWT_SECRET is required when NODE_ENV=production');
  const file = path.join(config.dataDir, 'jwt-secret');
  const existing = await readSecret(file);
  if (existing) return existing;
  await fs.mkdir(config.dataDir, { recursive: true });
  const candidate = `${file}.${process.pid}.${randomBytes(6).toString('hex')}`;
  await fs.writeFile(candidate, `${randomBytes(48).toString('base64url')}\n`, { mode: 0o600 });
  try {
    await fs.link(candidate, file).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  } finally {
    await fs.rm(candidate, { force: true });
  }
  const winner = await readSecret(file);
  if (!winner) throw new Error(`${file} is empty: remove it to have a new secret generated`);
  return winner;
}

async function readSecret(file: string): Promise<string | undefined> {
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  return text?.trim() || undefined;
}
