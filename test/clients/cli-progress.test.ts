/**
 * Long CLI work shows progress (issue #16, item 6): `hub seed`, `hub purge` and `hub migrate`
 * write one line per step (or batch, or migration) and a summary to stderr on a terminal; with
 * `--quiet`, or when stderr is not a TTY, only the one-line result (stdout) is printed. `hub seed`
 * leaves fresh planner statistics on every table it wrote.
 */
import { runHub } from '../cli-runner';
import { freshDatabase } from '../databases';
import { testDatabaseUrl } from '../harness';
import { Client } from 'pg';

/** Runs `hub …` with stderr as a terminal (or not), returning what stderr received. */
async function withStderr(tty: boolean, run: () => Promise<{ code: number; out: string; err: string }>) {
  const written: string[] = [];
  const saved = process.stderr.isTTY;
  const write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
    written.push(String(chunk));
    return true;
  });
  Object.defineProperty(process.stderr, 'isTTY', { value: tty, configurable: true });
  try {
    const result = await run();
    return { ...result, progress: written.join('') };
  } finally {
    write.mockRestore();
    Object.defineProperty(process.stderr, 'isTTY', { value: saved, configurable: true });
  }
}

async function query<T = any>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('CLI progress', () => {
  let db: { url: string; drop(): Promise<void> };
  beforeAll(async () => {
    db = await freshDatabase(testDatabaseUrl(), false);
  }, 60_000);
  afterAll(() => db?.drop());

  it('hub migrate shows each migration on a terminal, then a summary', async () => {
    const r = await withStderr(true, () => runHub({ DATABASE_URL: db.url }, 'migrate'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^applied /);
    const applied = r.out.replace('applied ', '').split(', ');
    const lines = r.progress.trim().split('\n');
    expect(lines.slice(0, applied.length)).toEqual(applied.map((name, i) => expect.stringContaining(`migrate: ${i + 1}/${applied.length} ${name} (`)));
    expect(lines[applied.length]).toMatch(new RegExp(`^applied ${applied.length} migrations in \\d+\\.\\ds$`));
  }, 60_000);

  it('hub seed shows every step with its rows, analyzes what it wrote, and says nothing extra off a terminal', async () => {
    const args = ['seed', '--users', '5', '--sessions', '40', '--messages', '200', '--skills', '12', '--seed', 'progress'];
    const tty = await withStderr(true, () => runHub({ DATABASE_URL: db.url }, ...args));
    expect(tty.code).toBe(0);
    expect(tty.out).toMatch(/^seeded 5 users, 40 sessions, 200 messages, 12 skills/);
    for (const step of ['users', 'skills', 'sessions', 'messages', 'skill links', 'node sync rows']) {
      expect(tty.progress).toContain(`  seed: ${step}…\n`);
      expect(tty.progress).toMatch(new RegExp(`  seed: ${step}: \\d+ rows \\(\\d+\\.\\ds\\)\\n`));
    }
    expect(tty.progress).toMatch(/  seed: analyze: 6 tables analyzed \(\d+\.\ds\)\n/);
    expect(tty.progress).toMatch(/seeded \d+ rows in \d+\.\ds\n$/);
    // Every table it wrote has been analyzed, the 12-row skills table included (autovacuum never would).
    const stats = await query(db.url, `SELECT relname, last_analyze FROM pg_stat_user_tables
      WHERE relname IN ('users', 'skills', 'sessions', 'messages', 'session_skills', 'session_node_sync')`);
    expect(stats).toHaveLength(6);
    for (const row of stats) expect([row.relname, row.last_analyze]).toEqual([row.relname, expect.any(Date)]);

    for (const [tty2, extra] of [[false, []], [true, ['--quiet']]] as const) {
      const quiet = await withStderr(tty2, () => runHub({ DATABASE_URL: db.url }, ...args, '--seed', `progress-${tty2}`, ...extra));
      expect(quiet.code).toBe(0);
      expect(quiet.out).toMatch(/^seeded /);
      expect(quiet.progress).toBe('');
    }
  }, 60_000);

  it('hub purge shows each batch and each step on a terminal', async () => {
    await query(db.url, `UPDATE sessions SET deleted_at = created_at + interval '1 hour'
       WHERE id IN (SELECT id FROM sessions WHERE deleted_at IS NULL AND created_at < now() - interval '41 days' ORDER BY id LIMIT 7)`);
    const r = await withStderr(true, () => runHub({ DATABASE_URL: db.url }, 'purge', '--older-than', '30d', '--batch', '3'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^purged \d+ sessions? deleted before/);
    expect(r.progress).toMatch(/  purge: batch of 3, 3 so far \(\d+\.\ds\)\n  purge: batch of 3, 6 so far/);
    expect(r.progress).toMatch(/  purge: sessions: \d+ purged \(\d+\.\ds\)\n/);
    expect(r.progress).toMatch(/  purge: expired audio uploads: \d+ removed/);
    expect(r.progress).toMatch(/purged \d+ sessions and \d+ uploads in \d+\.\ds\n$/);
    const quiet = await withStderr(true, () => runHub({ DATABASE_URL: db.url }, 'purge', '--older-than', '30d', '--quiet'));
    expect(quiet.progress).toBe('');
  }, 60_000);
});
