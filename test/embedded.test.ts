import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { freePort } from '../src/common/ports';
import { startEmbeddedPostgres } from '../src/db/embedded';

const postmasterPid = (dir: string) => Number(fs.readFileSync(path.join(dir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);

/** Running, not gone and not a zombie (this machine's init reaps orphans lazily). */
function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function selectOne(url: string): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query('SELECT 1 AS one')).rows[0].one;
  } finally {
    await client.end();
  }
}

describe('embedded PostgreSQL', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-embedded-'));
  fs.chmodSync(dir, 0o755);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('initialises once, keeps its data across restarts, and recovers a postmaster left by a killed run', async () => {
    const first = await startEmbeddedPostgres(dir);
    const admin = new Client({ connectionString: first.url });
    await admin.connect();
    await admin.query('CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)');
    await admin.end();
    const leftover = postmasterPid(dir);

    // The owner is "killed": its pid in the state file is dead, its postmaster still runs.
    const stateFile = path.join(dir, 'embedded-postgres.json');
    const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    fs.writeFileSync(stateFile, JSON.stringify({ ...state, ownerPid: 2 ** 22 + 1 }));

    const second = await startEmbeddedPostgres(dir);
    try {
      expect(postmasterPid(dir)).not.toBe(leftover);
      expect(isRunning(leftover)).toBe(false);
      expect(await selectOne(second.url)).toBe(1);
      const client = new Client({ connectionString: second.url });
      await client.connect();
      expect((await client.query('SELECT v FROM kept')).rows).toEqual([{ v: 42 }]);
      await client.end();
    } finally {
      await second.stop();
    }
    expect(fs.existsSync(path.join(dir, 'pg', 'postmaster.pid'))).toBe(false);
  });

  it('shares a cluster owned by a live process instead of stopping it', async () => {
    const owner = await startEmbeddedPostgres(dir);
    try {
      // Another live process (this test's parent) is recorded as the owner.
      const stateFile = path.join(dir, 'embedded-postgres.json');
      const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
      fs.writeFileSync(stateFile, JSON.stringify({ ...state, ownerPid: process.ppid }));
      const pid = postmasterPid(dir);
      const guest = await startEmbeddedPostgres(dir);
      expect(postmasterPid(dir)).toBe(pid);
      expect(await selectOne(guest.url)).toBe(1);
      await guest.stop(); // a guest never stops the owner's cluster
      expect(await selectOne(owner.url)).toBe(1);
    } finally {
      await owner.stop();
    }
  });

  it('listens on HUB_EMBEDDED_PG_PORT, and on a free port (said) when another program holds it', async () => {
    const wanted = await freePort();
    const first = await startEmbeddedPostgres(dir, () => undefined, { port: wanted });
    try {
      expect([first.port, first.portTaken]).toEqual([wanted, undefined]);
      expect(new URL(first.url).port).toBe(String(wanted));
    } finally {
      await first.stop();
    }
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(wanted, '127.0.0.1', resolve));
    const said: string[] = [];
    try {
      const second = await startEmbeddedPostgres(dir, (m) => said.push(m), { port: wanted });
      try {
        expect(second.portTaken).toBe(wanted);
        expect(second.port).not.toBe(wanted);
        expect(await selectOne(second.url)).toBe(1);
        expect(said.join('\n')).toContain(`port ${wanted} is taken by another program`);
      } finally {
        await second.stop();
      }
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    // Free again: the wanted port, not the fallback.
    const third = await startEmbeddedPostgres(dir, () => undefined, { port: wanted });
    try {
      expect([third.port, third.portTaken]).toEqual([wanted, undefined]);
    } finally {
      await third.stop();
    }
  });
});
