import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { AddressInfo } from 'node:net';
import S3rver from 's3rver';
import { AudioStorage } from '../../src/storage/audio-storage';
import { createAudioStorage } from '../../src/storage/storage';
import { User } from '../../src/users/user.entity';
import { factories, Factories } from '../factories';
import { startTestServer, TEST_SECRET, TestServer } from '../harness';

export type Driver = 'local' | 's3';
export const DRIVERS: Driver[] = ['local', 's3'];

/** A real S3-compatible server (s3rver) on an ephemeral loopback port, its files in a temp dir.
 * It does not verify signatures: those are covered by the local driver's tests. */
export async function startS3rver(bucket: string): Promise<{ env: Record<string, string>; close(): Promise<void> }> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'hub-s3rver-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  const address = (await server.run()) as AddressInfo;
  return {
    env: {
      HUB_STORAGE_DRIVER: 's3',
      HUB_S3_ENDPOINT: `http://127.0.0.1:${address.port}`,
      HUB_S3_REGION: 'us-east-1',
      HUB_S3_BUCKET: bucket,
      HUB_S3_ACCESS_KEY_ID: 'S3RVER',
      HUB_S3_SECRET_ACCESS_KEY: 'S3RVER',
      HUB_S3_FORCE_PATH_STYLE: 'true',
    },
    async close() {
      await server.close();
      await fs.rm(directory, { recursive: true, force: true });
    },
  };
}

export interface AudioSuite {
  t: TestServer;
  f: Factories;
  /** A second handle on the same store, to look at objects the way the server does. */
  storage: AudioStorage;
  /** The local driver's directory (local only). */
  audioDir?: string;
}

/**
 * The real server on the given driver for one test file: for `s3`, an s3rver started first and
 * stopped last; for `local`, a fresh audio directory removed afterwards.
 */
export function useAudioServer(driver: Driver, env: Record<string, string> = {}): () => AudioSuite {
  let suite: AudioSuite | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    let driverEnv: Record<string, string>;
    let audioDir: string | undefined;
    if (driver === 's3') {
      const s3 = await startS3rver('hub-audio-test');
      cleanups.push(() => s3.close());
      driverEnv = s3.env;
    } else {
      audioDir = await fs.mkdtemp(path.join(os.tmpdir(), 'hub-audio-'));
      cleanups.push(() => fs.rm(audioDir!, { recursive: true, force: true }));
      driverEnv = { HUB_AUDIO_DIR: audioDir };
    }
    const t = await startTestServer({ ...driverEnv, ...env });
    cleanups.unshift(() => t.close());
    suite = { t, f: factories(t.dataSource), storage: createAudioStorage(t.config, TEST_SECRET), audioDir };
  });
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });
  return () => {
    if (!suite) throw new Error('useAudioServer: the server starts in beforeAll');
    return suite;
  };
}

/**
 * The local driver's URLs are built on HUB_PUBLIC_URL (port 4000 by default); the test server
 * listens on an ephemeral port, so only the origin is moved there. Path and signature are kept
 * exactly as the API returned them. Object-store URLs are used as they are.
 */
export function reachable(t: TestServer, url: string): string {
  const target = new URL(url);
  const server = new URL(t.url);
  if (target.origin === t.config.publicUrl) [target.protocol, target.host] = [server.protocol, server.host];
  return target.toString();
}

export interface HttpAnswer {
  status: number;
  body: Buffer;
  headers: http.IncomingHttpHeaders;
  json(): any;
}

/** One HTTP request with exactly these headers (Content-Length included, which fetch would not
 * let us set) and body, as curl would send it. */
export function send(
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: Buffer | ((req: http.ClientRequest) => void),
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const data = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, body: data, headers: res.headers, json: () => JSON.parse(data.toString('utf8')) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (typeof body === 'function') body(req);
    else req.end(body);
  });
}

export const CREATE_UPLOAD = `mutation($input: CreateAudioUploadInput!) {
  createAudioUpload(input: $input) { key uploadUrl method headers { name value } expiresAt } }`;
export const POST_AUDIO = `mutation($input: PostMessageInput!) {
  postMessage(input: $input) { id audio { key url contentType byteSize } } }`;

export interface Upload {
  key: string;
  uploadUrl: string;
  method: string;
  headers: { name: string; value: string }[];
  expiresAt: string;
}

export function headersOf(upload: Upload): Record<string, string> {
  return Object.fromEntries(upload.headers.map((h) => [h.name, h.value]));
}

/** createAudioUpload as `as`, then (unless `put` is false) the PUT of `bytes` to its URL. */
export async function upload(
  t: TestServer,
  as: User,
  sessionId: string,
  bytes: Buffer,
  contentType = 'audio/ogg',
  put = true,
): Promise<Upload> {
  const result = await t.gql(CREATE_UPLOAD, { input: { sessionId, contentType, byteSize: bytes.length } }, { as });
  if (result.errors) throw new Error(`createAudioUpload failed: ${JSON.stringify(result.errors)}`);
  const made: Upload = result.data.createAudioUpload;
  if (put) {
    const answer = await send(made.method, reachable(t, made.uploadUrl), headersOf(made), bytes);
    if (answer.status !== 200) throw new Error(`upload PUT failed: ${answer.status} ${answer.body.toString()}`);
  }
  return made;
}

/** Random audio-ish bytes of the given size. */
export function bytesOf(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 0xff;
  if (size >= 4) bytes.write('OggS', 0);
  return bytes;
}
