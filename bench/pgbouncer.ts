import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../src/common/ports';

/** Debian's PgBouncer (`apt-get install pgbouncer`; .ci/run installs it), for test/pooler and bench/pooler.ts. */
export const PGBOUNCER = process.env.PGBOUNCER_PATH ?? '/usr/sbin/pgbouncer';

export function pgbouncerInstalled(): boolean {
  return fs.existsSync(PGBOUNCER);
}

export interface PgBouncer {
  /** postgres:// URL of the pooled database through PgBouncer (client side: trust). */
  url: string;
  pid: number;
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts PgBouncer on a loopback port in front of `serverUrl`'s database, in transaction mode
 * (the mode the issue tried, the one that breaks session state), with `poolSize` server
 * connections. `ignoreStartupParameters` is what an operator adds to let older clients in
 * (`options` makes PgBouncer accept and drop the startup options). Runs as `postgres` under
 * root (PgBouncer refuses root), in the foreground, stopped by its pid.
 */
export async function startPgBouncer(
  dir: string,
  serverUrl: string,
  options: { poolSize?: number; ignoreStartupParameters?: string[] } = {},
): Promise<PgBouncer> {
  const server = new URL(serverUrl);
  const database = server.pathname.slice(1);
  const user = decodeURIComponent(server.username);
  const password = decodeURIComponent(server.password);
  const port = await freePort();
  fs.mkdirSync(dir, { recursive: true, mode: 0o777 });
  fs.chmodSync(dir, 0o777);
  const logFile = path.join(dir, 'pgbouncer.log');
  const ini = path.join(dir, 'pgbouncer.ini');
  const connect = [`host=${server.hostname}`, `port=${server.port || 5432}`, `dbname=${database}`, `user=${user}`, ...(password ? [`password=${password}`] : [])];
  fs.writeFileSync(
    ini,
    [
      '[databases]',
      `${database} = ${connect.join(' ')}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${path.join(dir, 'users.txt')}`,
      'pool_mode = transaction',
      `default_pool_size = ${options.poolSize ?? 20}`,
      'max_client_conn = 500',
      `ignore_startup_parameters = ${['extra_float_digits', ...(options.ignoreStartupParameters ?? [])].join(',')}`,
      `logfile = ${logFile}`,
      'log_connections = 0',
      'log_disconnections = 0',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(path.join(dir, 'users.txt'), `"${user}" ""\n`);
  fs.chmodSync(ini, 0o644);
  fs.chmodSync(path.join(dir, 'users.txt'), 0o644);
  const asRoot = process.getuid?.() === 0;
  const child = spawn(PGBOUNCER, [...(asRoot ? ['-u', 'postgres'] : []), ini], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const log = () => `${fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''}${stderr}`;
  const deadline = Date.now() + 10_000;
  while (!/listening on 127\.0\.0\.1:\d+/.test(log())) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`PgBouncer did not start:\n${log()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/${database}`,
    pid: child.pid!,
    log,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(child.pid!, 'SIGINT');
      const timer = setTimeout(() => child.exitCode === null && process.kill(child.pid!, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** PgBouncer's version line (`PgBouncer 1.18.0`), for the test's report. */
export function pgbouncerVersion(): string {
  return execFileSync(PGBOUNCER, ['--version'], { encoding: 'utf8' }).split('\n')[0];
}
