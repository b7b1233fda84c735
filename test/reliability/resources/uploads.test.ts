/**
 * Resource fuzz, #21.5: the disk one member can make the server hold through audio uploads, on a
 * production-mode server with the local driver. One member floods createAudioUpload, sends many
 * bodies at once to one signed URL, and dribbles bodies a byte per stall window; the server's
 * disk (its audio directory, staging included), RSS and a bystander are measured. Before the
 * bounds, 300/300 uploads of 25 MiB were accepted, one URL took 60 concurrent bodies into
 * `.staging`, and a body sending a byte every 10 s was kept for 327 s.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import fc from 'fast-check';
import { Session } from '../../../src/sessions/session.entity';
import { User } from '../../../src/users/user.entity';
import { sleep, tempDir } from '../../support/child-server';
import { tally } from '../support/figures';
import { gql } from '../support/http';
import { AttackResult, bounded, expectWithinBounds, outcomeOf, ResourceServer, runResourceClass, startResourceServer } from './support/resource-run';

const MAX_BYTES = 1_048_576;
const MAX_PENDING = 4 * MAX_BYTES;
const STALL_SECONDS = 3;
const FLOOD = 300;
const BODIES_PER_URL = 60;
const CREATE = `mutation($input: CreateAudioUploadInput!) { createAudioUpload(input: $input) { key uploadUrl headers { name value } } }`;

let server: ResourceServer;
let attacker: User;
let bystander: User;
let session: Session;
const audioDir = tempDir('hub-resources-audio-');
beforeAll(async () => {
  server = await startResourceServer({
    HUB_AUDIO_DIR: audioDir,
    HUB_AUDIO_MAX_BYTES: String(MAX_BYTES),
    HUB_AUDIO_MAX_PENDING_BYTES: String(MAX_PENDING),
    HUB_AUDIO_UPLOAD_STALL_SECONDS: String(STALL_SECONDS),
    HUB_AUDIO_MIN_UPLOAD_RATE: '1024',
  });
  [attacker, bystander] = await Promise.all([server.f.user(), server.f.user()]);
  session = await server.f.session(attacker);
});
afterAll(async () => {
  await server?.close();
  fs.rmSync(audioDir, { recursive: true, force: true });
});

/** Bytes under the audio directory and files in its staging directory. */
function diskUse(): { bytes: number; staged: number } {
  let bytes = 0;
  for (const entry of fs.readdirSync(audioDir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) bytes += fs.statSync(path.join(entry.parentPath ?? entry.path, entry.name), { throwIfNoEntry: false })?.size ?? 0;
  }
  const staged = fs.existsSync(path.join(audioDir, '.staging')) ? fs.readdirSync(path.join(audioDir, '.staging')).length : 0;
  return { bytes, staged };
}

interface Upload {
  url: string;
  headers: Record<string, string>;
}

/** A PUT that sends `first` bytes, then one byte every `everyMs` until answered or `deadlineMs`. */
function dribble(upload: Upload, first: number, everyMs: number, deadlineMs: number): Promise<{ outcome: string; heldMs: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let deadline: NodeJS.Timeout | undefined;
    let answered = false;
    const done = (outcome: string) => {
      if (answered) return;
      answered = true;
      clearInterval(timer);
      clearTimeout(deadline);
      req.destroy();
      resolve({ outcome, heldMs: Date.now() - started });
    };
    const req = http.request(upload.url, { method: 'PUT', headers: upload.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let code = '';
        try {
          code = JSON.parse(Buffer.concat(chunks).toString()).error?.code ?? '';
        } catch {
          // not JSON
        }
        done(`${res.statusCode} ${code}`.trim());
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => done(`network:${error.code ?? error.message}`));
    req.write(Buffer.alloc(first, 1));
    timer = setInterval(() => req.write(Buffer.alloc(1, 1)), everyMs);
    deadline = setTimeout(() => done('still held'), deadlineMs);
  });
}

test('upload floods, concurrent bodies per URL and slow bodies keep disk, memory and the bystander bounded', async () => {
  const { child } = server;
  const token = server.tokenFor(attacker);
  const disk = { peakBytes: 0, peakStaged: 0 };
  let acceptedBytes = 0;
  let maxHeldMs = 0;
  const figures = await runResourceClass({
    name: 'audio-uploads',
    server,
    bystander,
    rssBoundMb: 120,
    attack: async (): Promise<AttackResult> => {
      const sampler = setInterval(() => {
        const use = diskUse();
        disk.peakBytes = Math.max(disk.peakBytes, use.bytes);
        disk.peakStaged = Math.max(disk.peakStaged, use.staged);
      }, 50);
      const outcomes: string[] = [];
      try {
        // 1. A flood of reservations, sizes drawn up to the largest upload.
        const sizes = fc.sample(fc.integer({ min: MAX_BYTES / 2, max: MAX_BYTES }), { numRuns: FLOOD, seed: 21 });
        const created = await bounded(FLOOD, 4, 30_000, (i) =>
          gql(child.graphqlUrl, token, CREATE, { input: { sessionId: session.id, contentType: 'audio/ogg', byteSize: sizes[i] } }).then((r) => ({ r, size: sizes[i] })),
        );
        outcomes.push(...created.map(({ r }) => `create ${outcomeOf(r)}`));
        const uploads: (Upload & { size: number })[] = created
          .filter(({ r }) => r.body?.data?.createAudioUpload)
          .map(({ r, size }) => {
            const made = r.body.data.createAudioUpload;
            const url = new URL(made.uploadUrl);
            const base = new URL(child.baseUrl);
            [url.protocol, url.host] = [base.protocol, base.host];
            return { url: url.toString(), size, headers: Object.fromEntries(made.headers.map((h: { name: string; value: string }) => [h.name, h.value])) };
          });
        acceptedBytes = uploads.reduce((sum, u) => sum + u.size, 0);
        // 2. Many bodies at once on one signed URL, each half sent, then held.
        if (uploads[0]) {
          const half = Math.floor(uploads[0].size / 2);
          const bodies = await Promise.all(Array.from({ length: BODIES_PER_URL }, () => dribble(uploads[0], half, 1_000, 3 * STALL_SECONDS * 1000)));
          outcomes.push(...bodies.map((b) => `same-url ${b.outcome}`));
        }
        // 3. Bodies that send a byte per stall window (on every other URL it got).
        const slow = await Promise.all(uploads.slice(1).map((u) => dribble(u, 1, STALL_SECONDS * 1000, 10 * STALL_SECONDS * 1000)));
        outcomes.push(...slow.map((b) => `slow ${b.outcome}`));
        maxHeldMs = Math.max(0, ...slow.map((b) => b.heldMs));
        // Let the janitor's staging sweep and the refusals settle.
        await sleep(500);
      } finally {
        clearInterval(sampler);
      }
      return {
        requests: outcomes.length,
        outcomes: { ...tally(outcomes), acceptedBytes, peakDiskBytes: disk.peakBytes, peakStagingFiles: disk.peakStaged, slowestBodyHeldMs: maxHeldMs },
      };
    },
  });
  expectWithinBounds(figures);
  expect({
    acceptedWithinQuota: acceptedBytes <= MAX_PENDING,
    // One staging file per signed URL at most: never more than the reservations the quota allowed.
    stagingPerUrl: disk.peakStaged <= Math.ceil(MAX_PENDING / (MAX_BYTES / 2)),
    diskWithinQuota: disk.peakBytes <= MAX_PENDING + 64 * 1024,
    // A byte per window is cut at the first window's end: held at most two windows (timer phase).
    slowBodiesCut: maxHeldMs <= 2 * STALL_SECONDS * 1000 + 2_000,
    stagingLeft: diskUse().staged,
  }).toEqual({ acceptedWithinQuota: true, stagingPerUrl: true, diskWithinQuota: true, slowBodiesCut: true, stagingLeft: 0 });
});
