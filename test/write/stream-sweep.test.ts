import { createDataSource } from '../../ormconfig';
import { ConfigError, loadConfig } from '../../src/config';
import { lockSession } from '../../src/consistency/locks';
import { failStaleStreams } from '../../src/messages/fail-stale-streams';
import { User } from '../../src/users/user.entity';
import { testDatabaseUrl, useTestServer } from '../harness';
import { DELETE_SESSION, RESTORE_SESSION } from './documents';

const { t, f } = useTestServer({}, { invariants: true });

const TEN_MINUTES = 600;
const MINUTE_MS = 60_000;
const POST = `mutation($input: PostMessageInput!) { postMessage(input: $input) { id } }`;
const APPEND = `mutation($id: ID!, $delta: String!, $offset: Int!) { appendMessageContent(id: $id, delta: $delta, offset: $offset) { id } }`;
const READ = `query($id: ID!) { message(id: $id) { content status } }`;

/** Sessions this file made: its sweeps leave other files' streams alone (they may run meanwhile). */
const mine: string[] = [];

async function streaming(as: User, content = 'partial') {
  const session = await f.session(as);
  mine.push(session.id);
  const posted = await t.gql(POST, { input: { sessionId: session.id, role: 'ASSISTANT', content, status: 'STREAMING' } }, { as });
  const id = posted.data.postMessage.id as string;
  const [row] = await t.dataSource.query('SELECT created_at FROM messages WHERE id = $1', [id]);
  return { session, id, createdAt: row.created_at as Date };
}

const statusOf = async (id: string): Promise<string> => (await t.dataSource.query('SELECT status FROM messages WHERE id = $1', [id]))[0].status;

/** The clock moved instead of waited for: the sweep is told what time it is. */
const sweepAt = (now: Date) => failStaleStreams(t.dataSource, { timeoutSeconds: TEN_MINUTES, now, sessionIds: mine });

describe('the stream sweep', () => {
  it('fails a message left STREAMING past the timeout, keeping its content, and moves its session', async () => {
    const member = await f.user();
    const { session, id, createdAt } = await streaming(member);
    expect(await sweepAt(new Date(createdAt.getTime() + 9 * MINUTE_MS))).not.toContain(id);
    expect(await statusOf(id)).toBe('STREAMING');
    const [{ updated_at: before }] = await t.dataSource.query('SELECT updated_at FROM sessions WHERE id = $1', [session.id]);
    expect(await sweepAt(new Date(createdAt.getTime() + 11 * MINUTE_MS))).toContain(id);
    expect((await t.gql(READ, { id }, { as: member })).data.message).toEqual({ content: 'partial', status: 'FAILED' });
    const [{ updated_at: after }] = await t.dataSource.query('SELECT updated_at FROM sessions WHERE id = $1', [session.id]);
    expect(after.getTime()).toBeGreaterThan(before.getTime());
    // Once: a later sweep does not touch it again.
    expect(await sweepAt(new Date(createdAt.getTime() + 60 * MINUTE_MS))).not.toContain(id);
  });

  it('counts from the last append, not from the posting', async () => {
    const member = await f.user();
    const { id, createdAt } = await streaming(member);
    expect((await t.gql(APPEND, { id, delta: '!', offset: 7 }, { as: member })).errors).toBeUndefined();
    const [{ changed_at: changedAt }] = await t.dataSource.query('SELECT changed_at FROM messages WHERE id = $1', [id]);
    expect(changedAt.getTime()).toBeGreaterThan(createdAt.getTime());
    // Ten minutes after the append (more than ten after the posting): not yet.
    expect(await sweepAt(new Date(changedAt.getTime() + TEN_MINUTES * 1000))).not.toContain(id);
    expect(await sweepAt(new Date(changedAt.getTime() + TEN_MINUTES * 1000 + 1))).toContain(id);
  });

  it('leaves finished messages and those of soft-deleted sessions alone; a restored one is swept as it was', async () => {
    const member = await f.user();
    const done = await streaming(member);
    await t.gql(`mutation($id: ID!) { finishMessage(id: $id, status: COMPLETE) { id } }`, { id: done.id }, { as: member });
    const parked = await streaming(member);
    await t.gql(DELETE_SESSION, { id: parked.session.id }, { as: member });
    const later = new Date(Date.now() + 60 * MINUTE_MS);
    const failed = await sweepAt(later);
    expect(failed).not.toContain(done.id);
    expect(failed).not.toContain(parked.id);
    expect(await statusOf(done.id)).toBe('COMPLETE');
    expect(await statusOf(parked.id)).toBe('STREAMING');
    await t.gql(RESTORE_SESSION, { id: parked.session.id }, { as: member });
    expect(await statusOf(parked.id)).toBe('STREAMING');
    expect(await sweepAt(later)).toContain(parked.id);
  });

  it('skips a session a writer holds instead of waiting for it, and fails its message on a later run', async () => {
    const member = await f.user();
    const { session, id } = await streaming(member);
    const later = new Date(Date.now() + 60 * MINUTE_MS);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const writer = t.dataSource.transaction(async (manager) => {
      await lockSession(manager, { id: member.id, isAdmin: false } as never, session.id, 'live');
      locked();
      await held;
    });
    await isLocked;
    expect(await sweepAt(later)).not.toContain(id);
    release();
    await writer;
    expect(await sweepAt(later)).toContain(id);
  });

  it('fails each stale message exactly once when two processes sweep at once', async () => {
    const member = await f.user();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await streaming(member)).id);
    const other = createDataSource({ url: testDatabaseUrl(), poolSize: 2 });
    await other.initialize();
    try {
      const later = new Date(Date.now() + 60 * MINUTE_MS);
      const runs = await Promise.all([
        failStaleStreams(t.dataSource, { timeoutSeconds: TEN_MINUTES, now: later, sessionIds: mine }),
        failStaleStreams(other, { timeoutSeconds: TEN_MINUTES, now: later, sessionIds: mine }),
      ]);
      const swept = runs.flat().filter((id) => ids.includes(id));
      // A session one sweep held was skipped by the other; the leftovers go on the next run.
      const rest = (await sweepAt(later)).filter((id) => ids.includes(id));
      expect([...swept, ...rest].sort()).toEqual([...ids].sort());
      for (const id of ids) expect(await statusOf(id)).toBe('FAILED');
    } finally {
      await other.destroy();
    }
  });

  it('reads HUB_STREAM_TIMEOUT as a duration (default 10 minutes) and refuses a bad one', () => {
    const base = { HUB_JWT_SECRET: 'x'.repeat(40), DATABASE_URL: 'postgres://x/y' };
    expect(loadConfig(base).streamTimeoutSeconds).toBe(600);
    expect(loadConfig({ ...base, HUB_STREAM_TIMEOUT: '90s' }).streamTimeoutSeconds).toBe(90);
    expect(loadConfig({ ...base, HUB_STREAM_TIMEOUT: '2m' }).streamTimeoutSeconds).toBe(120);
    expect(() => loadConfig({ ...base, HUB_STREAM_TIMEOUT: 'soon' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, HUB_STREAM_TIMEOUT: '0' })).toThrow(/HUB_STREAM_TIMEOUT/);
  });
});
