import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Session } from '../../src/sessions/session.entity';
import { codes, invalidFields, useTestServer } from '../harness';
import { DELETE_MESSAGE, DELETE_SESSION, POST_MESSAGE, PURGE_SESSION } from './documents';
import { reachable, upload } from '../audio/support';

const audioDir = path.join(os.tmpdir(), `hub-audio-${randomUUID()}`);
const { t, f } = useTestServer({ HUB_AUDIO_DIR: audioDir }, { invariants: true });
afterAll(() => fs.rm(audioDir, { recursive: true, force: true }));

const POST_WITH_AUDIO = `mutation($input: PostMessageInput!) {
  postMessage(input: $input) { id content audio { key url contentType byteSize } deletedAt } }`;

async function updatedAt(id: string): Promise<number> {
  return (await t.dataSource.getRepository(Session).findOneOrFail({ where: { id }, withDeleted: true })).updatedAt.getTime();
}

describe('postMessage', () => {
  it('posts to a live session, keeping the audio key of an upload of the viewer, and moves the session updatedAt', async () => {
    const member = await f.user();
    const session = await f.session(member);
    const made = await upload(t, member, session.id, Buffer.from('OggS-1234'));
    const before = await updatedAt(session.id);
    const audio = { key: made.key, contentType: 'audio/ogg', byteSize: 9 };
    const result = await t.gql(POST_WITH_AUDIO, { input: { sessionId: session.id, role: 'USER', content: 'Hi', audio } }, { as: member });
    expect(result.errors).toBeUndefined();
    expect(result.data.postMessage).toMatchObject({ content: 'Hi', deletedAt: null });
    const [stored] = await t.dataSource.query('SELECT audio_key, audio_content_type, audio_byte_size FROM messages WHERE id = $1', [
      result.data.postMessage.id,
    ]);
    expect(stored).toEqual({ audio_key: audio.key, audio_content_type: 'audio/ogg', audio_byte_size: 9 });
    expect(await updatedAt(session.id)).toBeGreaterThan(before);
  });

  it('moves updatedAt strictly forward even for messages posted in the same millisecond', async () => {
    const member = await f.user();
    const session = await f.session(member);
    const stamps: number[] = [];
    for (let i = 0; i < 5; i++) {
      await f.message(session);
      stamps.push(await updatedAt(session.id));
    }
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]).toBeGreaterThan(stamps[i - 1]);
  });

  it("is NOT_FOUND for a deleted session and for another member's session", async () => {
    const [member, other] = [await f.user(), await f.user()];
    const theirs = await f.session(other);
    const input = { sessionId: theirs.id, role: 'USER', content: 'x' };
    expect(codes(await t.gql(POST_MESSAGE, { input }, { as: member }))).toEqual(['NOT_FOUND']);
    const mine = await f.session(member);
    await t.gql(DELETE_SESSION, { id: mine.id }, { as: member });
    expect(codes(await t.gql(POST_MESSAGE, { input: { ...input, sessionId: mine.id } }, { as: member }))).toEqual(['NOT_FOUND']);
    expect(await t.dataSource.query('SELECT id FROM messages WHERE session_id = ANY($1)', [[theirs.id, mine.id]])).toEqual([]);
  });

  it.each([
    ['a leading slash', { key: '/etc/passwd' }],
    ['a parent segment', { key: 'audio/../../secret.ogg' }],
    ['a URL', { key: 'https://evil.example/a.ogg' }],
    ['upper case', { key: 'Audio/A.ogg' }],
    ['a hidden segment', { key: 'audio/.meta/a.ogg' }],
    ['a key over 512 characters', { key: `a/${'x'.repeat(511)}` }],
    ['a non-audio type', { contentType: 'video/mp4' }],
    ['zero bytes', { byteSize: 0 }],
    ['negative bytes', { byteSize: -5 }],
  ])('rejects audio with %s', async (_name, change) => {
    const member = await f.user();
    const session = await f.session(member);
    const audio = { key: 'audio/ok.ogg', contentType: 'audio/ogg', byteSize: 10, ...change };
    const result = await t.gql(POST_MESSAGE, { input: { sessionId: session.id, role: 'USER', content: 'x', audio } }, { as: member });
    expect(invalidFields(result)).toEqual([`input.audio.${Object.keys(change)[0]}`]);
  });

  it('accepts 32,000 characters of content and rejects 32,001', async () => {
    const member = await f.user();
    const session = await f.session(member);
    const input = { sessionId: session.id, role: 'TOOL', content: 'x'.repeat(32_000) };
    expect((await t.gql(POST_MESSAGE, { input }, { as: member })).errors).toBeUndefined();
    expect(invalidFields(await t.gql(POST_MESSAGE, { input: { ...input, content: `${input.content}x` } }, { as: member }))).toEqual([
      'input.content',
    ]);
  });

  it('serves the audio from a signed, expiring URL and refuses a tampered one', async () => {
    const member = await f.user();
    const session = await f.session(member);
    const made = await upload(t, member, session.id, Buffer.from('OggS-bytes'));
    const audio = { key: made.key, contentType: 'audio/ogg', byteSize: 10 };
    const result = await t.gql(POST_WITH_AUDIO, { input: { sessionId: session.id, role: 'USER', content: 'memo', audio } }, { as: member });
    const url = new URL(reachable(t, result.data.postMessage.audio.url));
    expect(url.pathname).toBe(`/audio/${made.key}`);
    expect(Number(url.searchParams.get('expires')) * 1000).toBeGreaterThan(Date.now());
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('OggS-bytes');
    const tampered = new URL(url);
    tampered.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 60));
    expect((await fetch(tampered)).status).toBe(403);
    const other = new URL(url);
    other.pathname = '/audio/test/other.ogg';
    const refused = await fetch(other);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ error: { code: 'SIGNATURE_INVALID', message: expect.any(String) } });
  });

  it('removes the audio file when its session is purged, but not a file another message still uses', async () => {
    const [admin, member] = [await f.admin(), await f.user()];
    const session = await f.session(member);
    const keeper = await f.session(member);
    const [solo, shared] = [`audio/test/${randomUUID()}.ogg`, `audio/test/${randomUUID()}.ogg`];
    for (const key of [solo, shared]) {
      await fs.mkdir(path.dirname(path.join(audioDir, key)), { recursive: true });
      await fs.writeFile(path.join(audioDir, key), 'bytes');
    }
    const audio = (key: string) => ({ audioKey: key, audioContentType: 'audio/ogg', audioByteSize: 5 });
    await f.message(session, audio(solo));
    await f.message(session, audio(shared));
    await f.message(keeper, audio(shared));
    expect((await t.gql(PURGE_SESSION, { id: session.id }, { as: admin })).errors).toBeUndefined();
    await expect(fs.stat(path.join(audioDir, solo))).rejects.toThrow();
    await expect(fs.stat(path.join(audioDir, shared))).resolves.toBeTruthy();
  });
});

describe('deleteMessage', () => {
  it('soft-deletes the message and moves the session updatedAt', async () => {
    const member = await f.user();
    const session = await f.session(member);
    const message = await f.message(session);
    const before = await updatedAt(session.id);
    const result = await t.gql(DELETE_MESSAGE, { id: message.id }, { as: member });
    expect(result.errors).toBeUndefined();
    expect(result.data.deleteMessage.deletedAt).not.toBeNull();
    expect(await updatedAt(session.id)).toBeGreaterThan(before);
  });

  it('is CONFLICT when already deleted, NOT_FOUND in a deleted session or for another member', async () => {
    const [member, other] = [await f.user(), await f.user()];
    const session = await f.session(member);
    const [a, b] = [await f.message(session), await f.message(session)];
    await t.gql(DELETE_MESSAGE, { id: a.id }, { as: member });
    expect(codes(await t.gql(DELETE_MESSAGE, { id: a.id }, { as: member }))).toEqual(['CONFLICT']);
    expect(codes(await t.gql(DELETE_MESSAGE, { id: b.id }, { as: other }))).toEqual(['NOT_FOUND']);
    await t.gql(DELETE_SESSION, { id: session.id }, { as: member });
    expect(codes(await t.gql(DELETE_MESSAGE, { id: b.id }, { as: member }))).toEqual(['NOT_FOUND']);
    expect(codes(await t.gql(DELETE_MESSAGE, { id: randomUUID() }, { as: member }))).toEqual(['NOT_FOUND']);
  });
});
