import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { TEST_SECRET, testDatabaseUrl } from '../../harness';

const REGISTER = path.join(__dirname, 'ts-register.js');
const ENTRY = path.join(__dirname, 'serve-child.ts');

export interface ServerProcess {
  pid: number;
  /** e.g. http://127.0.0.1:41234/graphql */
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `hub serve` in its own Node process on the run's test database, on an ephemeral
 * loopback port, with the tests' JWT secret (so the harness's tokens work on it). Stopped by pid.
 */
export async function startServerProcess(env: Record<string, string> = {}): Promise<ServerProcess> {
  const base: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'USER']) if (process.env[key]) base[key] = process.env[key]!;
  const child: ChildProcess = spawn(process.execPath, ['--require', REGISTER, ENTRY], {
    cwd: path.resolve(__dirname, '../../..'),
    env: {
      ...base,
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: testDatabaseUrl(),
      HUB_JWT_SECRET: TEST_SECRET,
      HUB_LOG_LEVEL: 'warn',
      HUB_LIVE_RECONNECT_MAX_MS: '500',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (chunk) => (text = (text + chunk).slice(-200_000)));
  child.stderr!.on('data', (chunk) => (text = (text + chunk).slice(-200_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server process did not start:\n${text.slice(-3000)}`)), 90_000);
    const check = () => {
      const match = /is serving (http:\/\/[^\s]+\/graphql)/.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout!.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the server process exited during start:\n${text.slice(-3000)}`));
    });
  });
  return {
    pid: child.pid!,
    url,
    output: () => text,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
